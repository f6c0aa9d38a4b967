#!/usr/bin/env python3
"""make_corpus.py -- writes the seed corpora of the fuzz targets into
fuzz/corpus/<target>/ (committed; run again after changing this script).

Seeds come from tests/fixtures (the Baileys values, as they are and wrapped
in patches) and from the shapes the tests pin: the scripts' replies
(redis/scripts/*.lua comment blocks, tests/redis_replies.hpp), the store's
BSON documents (mongo/documents.hpp, tests/mongowire/wire_docs.hpp), a
load's rows (postgres/rows.hpp) and a handshake (runtime/remote/auth.hpp).
Binary formats are written by the small encoders below (no pymongo here).
Seeds stay small: libFuzzer mutates them, it does not need many.
"""
import hashlib
import hmac
import json
import os
import pathlib
import shutil
import struct

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "fuzz" / "corpus"
FIX = ROOT / "tests" / "fixtures"


def target(name):
    d = OUT / name
    if d.exists():
        # Keep regression inputs (regression-*: inputs a fuzzer found).
        for f in d.iterdir():
            if not f.name.startswith("regression-"):
                f.unlink()
    d.mkdir(parents=True, exist_ok=True)
    return d


def write(d, name, data):
    if isinstance(data, str):
        data = data.encode()
    (d / name).write_bytes(data)


def fixtures():
    for sub in ("baileys-v7", "baileys-numarray"):
        for f in sorted((FIX / sub).glob("*.json")):
            yield sub, f


# -- codec and patch: the Baileys fixtures ----------------------------------
codec = target("codec_fuzz")
patch = target("patch_fuzz")
for sub, f in fixtures():
    write(codec, f"{sub}.{f.name}", f.read_bytes())
    owner, rest = f.name.split(".", 1)
    value = json.loads(f.read_text())
    name = rest[: -len(".json")]
    if name == "creds":
        doc = {"creds": value}
    else:
        # <type>-<id>: the known types, longest first.
        for t in sorted(
            ["pre-key", "session", "sender-key", "sender-key-memory",
             "app-state-sync-key", "app-state-sync-version", "lid-mapping",
             "device-list", "tctoken", "identity-key"], key=len, reverse=True):
            if name.startswith(t + "-"):
                doc = {"keys": {t: {name[len(t) + 1:]: value, "gone": None}}}
                break
    write(patch, f"{sub}.{f.name}", json.dumps(doc, separators=(",", ":")))
write(codec, "js-strings.json", (FIX / "js" / "strings.json").read_bytes())
# The numbers fixture is 48 kB; a slice of its edge cases is enough.
numbers = json.loads((FIX / "js" / "numbers.json").read_text())
write(codec, "js-numbers-head.json",
      json.dumps(numbers[:64] if isinstance(numbers, list) else numbers))
for i, x in enumerate(['{"type":"Buffer","data":""}', '{"0":0,"1":255}',
                       '{"type":"Buffer","data":[]}', '[[[[{"a":[1e21]}]]]]',
                       '"\\ud83d\\ude00\\u2028"', '{}', '-0.0']):
    write(codec, f"edge-{i}.json", x)

# -- session ids and names: ids and key names from the fixtures -------------
sid = target("session_id_fuzz")
for i, x in enumerate(["5511999", "alice@s.whatsapp.net:12", "a" * 128,
                       "a" * 129, "{tag}", "pre-key/1",
                       "sender-key/120363000000000001@g.us--15550001111--12",
                       "session/222222222222222_1.0", "", "a\x00b"]):
    write(sid, f"seed-{i}", x)

# -- config files ------------------------------------------------------------
cfg = target("config_fuzz")
write(cfg, "tests", "# comment\nredis.pool-size = 3\n"
      "session.max-live = 7\ncodec.max-depth=9\n")
write(cfg, "urls", "redis.url = redis://user:pw@10.0.0.1:6380/2\r\n"
      "mongodb.uri = mongodb://u:p@h1,h2/?replicaSet=rs0\n"
      "redis.url = unix://:secret@/run/redis.sock?db=3\n")
write(cfg, "bad", "this is not a setting\n= value\nkey =\n\n  # only\n")
write(cfg, "bools", "mongodb.write-journal = yes\nlog.level = debug\n"
      "outbox.reconcile = 0\n")

# -- Redis replies (RESP) ----------------------------------------------------
def bulk(s):
    if s is None:
        return b"$-1\r\n"
    s = s.encode() if isinstance(s, str) else s
    return b"$%d\r\n%s\r\n" % (len(s), s)


def arr(*xs):
    out = b"*%d\r\n" % len(xs)
    for x in xs:
        out += b":%d\r\n" % x if isinstance(x, int) else bulk(x)
    return out


resp = target("redis_reply_fuzz")
seeds = {
    "apply-ok": arr(7),
    "apply-conflict": arr(-1, 6),
    "untraced": arr(-3),
    "claimed": arr(-2),
    "read-creds": arr(3, "me", '{"id":"1@s.whatsapp.net"}', "registered",
                      "true"),
    "read-keys": arr(4, '{"a":1}', None, "x"),
    "delete": arr(1, 9),
    "read-dirty": arr(5, "c:me", 5, "true", "k:pre-key/1", 4, None, "!v", 3,
                      None, "!erase", 2, None),
    "clear": arr(3, 0),
    "candidates": arr("s1", "s2"),
    "stats": arr(2, 7, "1700000000000", 0),
    "sweep": arr("0", 1),
    "flag": b":1\r\n",
    "status": b"+OK\r\n",
    "errors": b"-OOM command not allowed\r\n-NOSCRIPT x\r\n-BUSY\r\n",
    "pipeline": arr(7) + arr(-1, 6) + b":0\r\n",
}
for k, v in seeds.items():
    write(resp, k, v)

# -- BSON documents ------------------------------------------------------------
def cstr(s):
    return s.encode() + b"\x00"


class Doc(list):
    """An embedded document: (key, value) pairs in order."""


def bdoc(items):
    body = b""
    for k, v in items:
        if isinstance(v, bool):
            body += b"\x08" + cstr(k) + (b"\x01" if v else b"\x00")
        elif isinstance(v, int):
            body += b"\x12" + cstr(k) + struct.pack("<q", v)
        elif isinstance(v, str):
            e = v.encode()
            body += b"\x02" + cstr(k) + struct.pack("<i", len(e) + 1) + e + b"\x00"
        elif isinstance(v, Doc):
            body += b"\x03" + cstr(k) + bdoc(v)
        else:  # a list is an array
            body += b"\x04" + cstr(k) + bdoc([(str(i), x) for i, x in enumerate(v)])
    return struct.pack("<i", len(body) + 5) + body + b"\x00"


bson = target("mongo_documents_fuzz")
write(bson, "session", bdoc([("_id", "alice"), ("v", 7)]))
write(bson, "session-erased", bdoc([("_id", "alice"), ("v", 9), ("dv", 8)]))
write(bson, "key", bdoc([("_id", Doc([("s", "alice"), ("f", "k:pre-key/1")])),
                         ("v", 3), ("val", '{"a":1}')]))
write(bson, "tombstone", bdoc([("_id", Doc([("s", "alice"), ("f", "c:me")])),
                               ("v", 4), ("del", True)]))
write(bson, "bulk-duplicates", bdoc([
    ("nInserted", 0),
    ("writeErrors", [Doc([("index", 0), ("code", 11000), ("errmsg", "E11000")]),
                     Doc([("index", 2), ("code", 11000)])])]))
write(bson, "bulk-wce", bdoc([("writeConcernErrors", [Doc([("code", 64)])])]))

# -- PostgreSQL load rows (consumed by FuzzedDataProvider) -------------------
# Bytes are taken from the front (field contents) and control values from
# the back (row count, NULL flags, lengths: one byte each, the int8 last).
def pg_seed(rows, x=0):
    front, back = b"", []
    back.append(len(rows))
    for row in rows:
        for col in row:
            if col is None:
                back.append(1)
            else:
                back.append(0)
                back.append(len(col))
                front += col
    # The control bytes are consumed last byte first; the int8 round trip
    # (ConsumeIntegral<int64_t>, eight bytes, little end consumed last)
    # takes what is left between the two.
    tail = bytes(reversed(back))
    return front + struct.pack("<Q", x & (2**64 - 1)) + tail


def i8(x):
    return struct.pack(">q", x)


pg = target("pg_rows_fuzz")
write(pg, "session-and-fields", pg_seed([
    [i8(5), i8(0), None, None, None],
    [None, None, b"k:pre-key/1", i8(5), b'{"a":1}'],
    [None, None, b"c:me", i8(3), b'"x"']]))
write(pg, "erased", pg_seed([[i8(9), i8(9), None, None, None]]))
write(pg, "fields-only", pg_seed([[None, None, b"c:a", i8(1), b"1"]], 42))

# -- the remote handshake ------------------------------------------------------
# ConsumeRandomLengthString ends a string at a backslash followed by another
# character; the version (uint32) comes from the back.
def hs_seed(secret, cn, sn, proof, rest, version=1):
    parts = [secret, cn, sn, proof]
    front = b"".join(p.replace(b"\\", b"\\\\") + b"\\ " for p in parts)
    return front + rest + struct.pack("<I", version)


secret = b"correct horse battery staple 01"
cn = hashlib.sha256(b"client").hexdigest().encode()
sn = hashlib.sha256(b"server").hexdigest().encode()
client = hmac.new(secret, b"authstore/remote/v1/client\n" + sn + b"\n" + cn,
                  hashlib.sha256).hexdigest().encode()
auth = target("remote_auth_fuzz")
write(auth, "handshake", hs_seed(secret, cn, sn, client, b"\n"))
write(auth, "short-secret", hs_seed(b"short", cn, sn, b"", b" \t\r\n"))
write(auth, "long-key", hs_seed(b"k" * 100, cn.upper(), sn, cn, b"x" * 70))

# -- the HTTP API's request path ----------------------------------------------
# One flag byte (bits 0-1: routes served; 2: no secret; 3: the right bearer
# header), then method, target, Authorization, each ending in '\n', then
# the body (fuzz/http_api_fuzz.cpp). Bodies: the write examples of
# docs/HTTP-API.md and the Baileys fixtures wrapped as patches.
def http_seed(flags, method, target_, auth, body=b""):
    if isinstance(body, str):
        body = body.encode()
    return bytes([flags]) + f"{method}\n{target_}\n{auth}\n".encode() + body


http = target("http_api_fuzz")
ok = 8 | 2
write(http, "health", http_seed(0, "GET", "/v1/health", ""))
write(http, "creds", http_seed(ok, "GET", "/v1/sessions/5511999/creds", ""))
write(http, "creds-encoded",
      http_seed(ok, "GET", "/v1/sessions/alice%40s.whatsapp.net%3A12/creds?x=1", ""))
write(http, "no-auth", http_seed(2, "GET", "/v1/sessions/s/creds",
                                 "bearer  fuzz-secret-0123456789abcdef"))
write(http, "wrong-auth", http_seed(2, "POST", "/v1/sessions/s/write",
                                    "Basic abc", "{}"))
write(http, "slash", http_seed(ok, "GET", "/v1/sessions/a%2Fb/creds", ""))
write(http, "bad-escape", http_seed(ok, "GET", "/v1/sessions/a%G1/exists", ""))
write(http, "405", http_seed(ok, "PUT", "/v1/sessions/s", ""))
write(http, "ops", http_seed(1, "GET", "/metrics", ""))
write(http, "readyz", http_seed(3, "GET", "/readyz?verbose", ""))
write(http, "read-keys", http_seed(ok, "POST", "/v1/sessions/s/keys/pre-key/read",
                                   "", '{"ids":["1","2","3"]}'))
write(http, "list-keys", http_seed(ok, "GET", "/v1/sessions/s/keys/session", ""))
write(http, "batch", http_seed(ok, "POST", "/v1/batch/creds", "",
                               '{"sessions":["a","b"]}'))
write(http, "lease", http_seed(ok, "POST", "/v1/sessions/s/lease", "",
                               '{"holder":"h","ttl_ms":30000}'))
write(http, "delete", http_seed(ok, "DELETE", "/v1/sessions/s", ""))
write(http, "touch", http_seed(4, "POST", "/v1/sessions/s/touch", ""))
write(http, "write-version", http_seed(
    ok, "POST", "/v1/sessions/s/write", "",
    '{"expected_version":3,"creds":{"me":{"id":"1@s.whatsapp.net"}},'
    '"keys":{"pre-key":{"1":{"type":"Buffer","data":"AQI="},"2":null}}}'))
write(http, "write-lease", http_seed(ok, "POST", "/v1/sessions/s/write", "",
                                     '{"lease":{"epoch":1},"creds":{}}'))
for i, (sub, f) in enumerate(fixtures()):
    if i % 4:
        continue  # a few are enough; patch_fuzz has them all
    body = (patch / f"{sub}.{f.name}").read_bytes()
    write(http, f"write-{sub}.{f.name}",
          http_seed(ok, "POST", "/v1/sessions/5511999/write", "", body))

# crypto_fuzz: first byte even = a key file, odd = a stored value (opened
# against the target's fixed ring: k1 = 32 zero bytes). The sealed seeds are
# made here the way crypto/sealed_value.cpp seals (python3-cryptography,
# a Debian package), so the fuzzer starts from values that open.
crypto = target("crypto_fuzz")
zero_key = "k1 " + "A" * 43 + "=\n"
write(crypto, "ring-one", b"\0" + zero_key.encode())
write(crypto, "ring-two", b"\0" + (zero_key + "k2 " + "B" * 43 + "=\n").encode())
write(crypto, "ring-comment", b"\0# active first\n\n" + zero_key.encode())
write(crypto, "ring-short-key", b"\0k1 AAAA\n")
write(crypto, "ring-duplicate", b"\0" + (zero_key + zero_key).encode())
write(crypto, "plain-json", b"\x01" + b'{"private":"alice-2"}')
write(crypto, "bad-header", b"\x01~1.k1")
write(crypto, "unknown-key", b"\x01~1.k9.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
try:
    import base64
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    def sized(b):
        return struct.pack(">I", len(b)) + b

    def sealed(sid, kind, type_, id_, plaintext, nonce):
        header = b"~1.k1."
        aad = (sized(header) + sized(sid) + sized(kind) + sized(type_)
               + sized(id_))
        ct = AESGCM(bytes(32)).encrypt(nonce, plaintext, aad)
        return header + base64.b64encode(nonce + ct)

    write(crypto, "sealed-creds",
          b"\x01" + sealed(b"sid", b"creds", b"", b"me",
                           b'{"id":"alice@s.whatsapp.net"}', bytes(12)))
    write(crypto, "sealed-key",
          b"\x01" + sealed(b"sid", b"key", b"pre-key", b"1",
                           b'{"private":"alice-1"}', bytes(range(12))))
except ImportError:
    print("make_corpus.py: python3-cryptography missing: crypto_fuzz gets no "
          "sealed seeds")
