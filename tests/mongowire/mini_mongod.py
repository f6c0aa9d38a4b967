# mini_mongod.py -- a stateful in-memory MongoDB for end-to-end tests.
#
# Why: no real mongod exists on the test machines, and the end-to-end tests
# need a cold store that keeps what it was told across calls and across a
# crash (kill -9, then a restart on the same port). mock_mongod.py replays
# scripted replies; this script instead *executes* the commands, for exactly
# the command shapes mongo/store.cpp sends, with MongoDB's semantics
# for those shapes:
#   update   updates [{q, u, upsert?, multi?}], ordered?; q: `_id` equality
#            (a string, or an embedded document compared as an ordered
#            document), `v: {$lt: n}` ...; u: $set, $unset, $max (also $min,
#            $setOnInsert). An upsert that matches nothing inserts a doc
#            built from q's equality fields; if that _id already exists the
#            item is a write error E11000, as in MongoDB (the version guard
#            of mongo_store relies on exactly this).
#   delete   deletes [{q, limit 0|1}]
#   find     filter, limit, projection (inclusion, e.g. {val: 1}); the whole
#            result in firstBatch, cursor id 0
#   createIndexes, ping, endSessions, killCursors: {ok: 1}
#   hello / isMaster: the handshake (maxWireVersion 13, like mock_mongod.py)
# Filters support equality, $eq $ne $lt $lte $gt $gte $in $nin $exists on
# top-level or dotted paths ("_id.s") through embedded documents (no arrays).
# Anything else -- another command, operator or option that would change
# the meaning -- is answered {ok: 0, code: 59 (command) or 2 (operator),
# errmsg: "mini_mongod: unsupported ..."} and one line goes to stderr, so a
# test sees the gap instead of getting a silently wrong answer. Write concern
# and session options (writeConcern, lsid, $clusterTime, ...) are accepted and
# ignored. BSON types are kept: an int64 stays bson Int64.
#
# Usage: /usr/bin/python3 mini_mongod.py --data-file PATH [--port N]
#   N = 0 or absent: the kernel picks the port. The port is the first stdout
#   line, flushed; nothing else goes to stdout.
#
# Durability: the data file PATH is a log of BSON records, {ns, doc} (a
# document as it now is; types and key order exact) and {ns, del: _id}.
# Each command's changes are appended with one write() *before* its reply,
# so an acknowledged write survives kill -9 (not a machine crash: there is
# no fsync, the tests never crash the kernel). A record torn by kill -9 in
# mid-write was never acknowledged and is dropped at the next start. When
# the log outgrows the live data, it is rewritten (compacted) through
# PATH.tmp and os.replace, so the file always holds a complete state. At
# start, PATH is replayed if it exists. Hence kill -9 plus a restart on the
# same port and file is a MongoDB that restarted with its data; SIGSTOP is a
# hung one.
#
# Speed: a mutation costs what it changed, not the whole state. Measured
# through mongo_store on a busy 2-core machine, with 2 000 key docs of 200
# bytes stored: ~2 000 mutations/s (a one-key persist is 2 commands), a
# load of one 2 000-key session ~30 ms, ~2 000 pings/s.
#
# Design: single-threaded. mockupdb reads every connection in its own thread
# and queues the requests; this loop serves them one at a time, so commands
# are atomic with respect to each other (one command = one step of state).
import argparse
import os
import queue
import sys
from collections import OrderedDict

import bson
from bson import codec_options
from bson.int64 import Int64
from bson.objectid import ObjectId
from bson.raw_bson import RawBSONDocument
import mockupdb
from mockupdb import MockupDB

HELLO = {'ismaster': True, 'isWritablePrimary': True, 'helloOk': True,
         'minWireVersion': 0, 'maxWireVersion': 13,
         'maxBsonObjectSize': 16777216, 'maxMessageSizeBytes': 48000000,
         'maxWriteBatchSize': 100000}
FOREVER_S = 3600
CODEC = codec_options.CodecOptions(document_class=OrderedDict)
# MongoDB's codes for the answers we give.
CODE_BAD_VALUE = 2
CODE_COMMAND_NOT_FOUND = 59
CODE_DUPLICATE_KEY = 11000
CODE_INTERNAL = 1
# The log is compacted when it exceeds this many times the live data, and
# at least this many bytes: amortized, a mutation costs O(its records).
COMPACT_FACTOR = 4
COMPACT_MIN_BYTES = 1 << 20
# find options that change which documents come back and are not modelled.
UNSUPPORTED_FIND_OPTIONS = ('sort', 'skip', 'hint', 'min', 'max', 'collation',
                            'tailable', 'awaitData', 'returnKey',
                            'showRecordId')


class Unsupported(Exception):
    """A shape this server does not model (a bug in the caller or here)."""


# -- values ------------------------------------------------------------------

def is_number(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def canon(x):
    """A hashable form with BSON equality: numbers compare by value across
    int32/int64/double, embedded documents compare in field order."""
    if isinstance(x, bool):
        return ('b', x)
    if is_number(x):
        return ('n', x)
    if isinstance(x, str):
        return ('s', x)
    if isinstance(x, dict):
        return ('d', tuple((k, canon(v)) for k, v in x.items()))
    if isinstance(x, (list, tuple)):
        return ('a', tuple(canon(v) for v in x))
    if x is None:
        return ('z',)
    return (type(x).__name__, x)


def compare(a, b):
    """-1, 0 or 1 for two values of one comparable kind, else None (MongoDB
    compares $lt/$gt only within a type bracket)."""
    if (is_number(a) and is_number(b)) or (
            isinstance(a, str) and isinstance(b, str)):
        return (a > b) - (a < b)
    return None


def get_path(doc, parts):
    """(present, value) of a dotted path (split) through embedded docs."""
    value = doc
    for part in parts:
        if isinstance(value, list):
            raise Unsupported('path %r through an array' % '.'.join(parts))
        if not isinstance(value, dict) or part not in value:
            return False, None
        value = value[part]
    return True, value


# -- queries -----------------------------------------------------------------
# A filter is compiled once per command into (path, test) pairs, each test a
# function of (present, value): a session's load scans thousands of docs.

def is_operator_doc(x):
    return isinstance(x, dict) and len(x) > 0 and all(
        k.startswith('$') for k in x)


def equality_test(target):
    if target is None:  # MongoDB: {f: null} also matches a missing f
        return lambda present, value: not present or value is None
    if isinstance(target, str):
        return lambda present, value: present and value == target and (
            isinstance(value, str))
    key = canon(target)
    return lambda present, value: present and canon(value) == key


def operator_test(op, arg):
    if op == '$eq':
        return equality_test(arg)
    if op == '$ne':
        eq = equality_test(arg)
        return lambda present, value: not eq(present, value)
    if op in ('$lt', '$lte', '$gt', '$gte'):
        wanted = {'$lt': (-1,), '$lte': (-1, 0), '$gt': (1,),
                  '$gte': (1, 0)}[op]
        return lambda present, value: present and (
            compare(value, arg) in wanted)
    if op in ('$in', '$nin'):
        if not isinstance(arg, list):
            raise Unsupported('%s without an array' % op)
        tests = [equality_test(t) for t in arg]
        hit = (lambda present, value:
               any(t(present, value) for t in tests))
        if op == '$in':
            return hit
        return lambda present, value: not hit(present, value)
    if op == '$exists':
        return lambda present, value: present == bool(arg)
    raise Unsupported('query operator %s' % op)


def compile_query(query):
    """A predicate doc -> bool with MongoDB's semantics for `query`."""
    tests = []
    for path, cond in query.items():
        if path.startswith('$'):
            raise Unsupported('query operator %s' % path)
        parts = path.split('.')
        if is_operator_doc(cond):
            for op, arg in cond.items():
                tests.append((parts, operator_test(op, arg)))
        else:
            tests.append((parts, equality_test(cond)))

    def matches(doc):
        for parts, test in tests:
            if not test(*get_path(doc, parts)):
                return False
        return True
    return matches


def id_keys(query):
    """The canon(_id)s an `_id` equality or `_id: {$in: [...]}` query can
    match (without duplicates), or None: then every document is a
    candidate."""
    if '_id' not in query:
        return None
    cond = query['_id']
    if not is_operator_doc(cond):
        return [canon(cond)]
    if list(cond) == ['$eq']:
        return [canon(cond['$eq'])]
    if list(cond) == ['$in'] and isinstance(cond['$in'], list):
        return list(dict.fromkeys(canon(x) for x in cond['$in']))
    return None


# -- updates -----------------------------------------------------------------

def check_field(field):
    if '.' in field or field.startswith('$') or field == '_id':
        raise Unsupported('update of field %r' % field)


def apply_update(doc, update, inserting):
    """A new doc: `doc` (not changed) with the update operators applied."""
    if not is_operator_doc(update):
        raise Unsupported('replacement or pipeline update')
    new = OrderedDict(doc)
    for op, fields in update.items():
        if not isinstance(fields, dict):
            raise Unsupported('%s without a document' % op)
        for field, arg in fields.items():
            check_field(field)
            if op == '$set' or (op == '$setOnInsert' and inserting):
                new[field] = arg
            elif op == '$setOnInsert':
                pass
            elif op == '$unset':
                new.pop(field, None)
            elif op in ('$max', '$min'):
                if field not in new:
                    new[field] = arg
                    continue
                c = compare(arg, new[field])
                if c is None:
                    raise Unsupported('%s across types' % op)
                if (c > 0) if op == '$max' else (c < 0):
                    new[field] = arg
            else:
                raise Unsupported('update operator %s' % op)
    return new


def upsert_seed(query):
    """The document an upsert starts from: the query's equality fields."""
    seed = OrderedDict()
    for path, cond in query.items():
        if is_operator_doc(cond):
            if list(cond) == ['$eq']:
                cond = cond['$eq']
            else:
                continue
        if '.' in path or path.startswith('$'):
            raise Unsupported('upsert with an equality on %r' % path)
        seed[path] = cond
    if '_id' in seed:
        seed.move_to_end('_id', last=False)
    else:
        seed['_id'] = ObjectId()
        seed.move_to_end('_id', last=False)
    return seed


# -- the store -----------------------------------------------------------------

class Entry:
    """One stored document with its BSON encodings, made once per change:
    re-encoding thousands of documents per command is what makes a Python
    server slow (bson.encode costs ~3 us per small document)."""
    __slots__ = ('doc', 'record', 'projected')

    def __init__(self, ns, doc):
        self.doc = doc
        # The file record: {ns, doc}; compaction only concatenates them.
        self.record = bson.encode(OrderedDict([('ns', ns), ('doc', doc)]))
        self.projected = {}  # canon(projection) -> RawBSONDocument

    def reply_doc(self, projection, key):
        """The document as a find reply carries it (projected; key =
        canon(projection)), encoded once."""
        raw = self.projected.get(key)
        if raw is None:
            doc = project(self.doc, projection) if projection else self.doc
            raw = RawBSONDocument(bson.encode(doc))
            self.projected[key] = raw
        return raw


def session_of(doc_id):
    """_id.s of a key document's _id, the one dotted path we index: load()
    and erase() of one session filter on it."""
    if isinstance(doc_id, dict):
        s = doc_id.get('s')
        if isinstance(s, str):
            return s
    return None


class Collection:
    """Documents by canon(_id), plus an index on _id.s. Every change is
    also handed to `log` as the record that replays it."""

    def __init__(self, ns, log):
        self.ns = ns
        self.log = log
        self.entries = OrderedDict()
        self.by_session = {}

    def put(self, doc):
        key = canon(doc['_id'])
        entry = Entry(self.ns, doc)
        self.log.changed(self.entries.get(key), entry, entry.record)
        self.entries[key] = entry
        s = session_of(doc['_id'])
        if s is not None:
            self.by_session.setdefault(s, {})[key] = None

    def remove(self, doc):
        key = canon(doc['_id'])
        self.log.changed(self.entries[key], None, bson.encode(
            OrderedDict([('ns', self.ns), ('del', doc['_id'])])))
        del self.entries[key]
        s = session_of(doc['_id'])
        if s is not None:
            keys = self.by_session[s]
            del keys[key]
            if not keys:
                del self.by_session[s]

    def candidates(self, query):
        """The entries that may match `query` (a superset)."""
        keys = id_keys(query)
        if keys is not None:
            return [self.entries[k] for k in keys if k in self.entries]
        s = query.get('_id.s')
        if isinstance(s, str):
            return [self.entries[k] for k in self.by_session.get(s, ())]
        return list(self.entries.values())

    def select(self, query, limit=0):
        matches = compile_query(query)
        found = []
        for entry in self.candidates(query):
            if matches(entry.doc):
                found.append(entry)
                if limit and len(found) >= limit:
                    break
        return found


def read_records(path):
    """The records of a data file, up to a torn last one (a write cut short
    by kill -9: it was never acknowledged, so it is dropped)."""
    with open(path, 'rb') as f:
        data = f.read()
    pos = 0
    while pos + 4 <= len(data):
        size = int.from_bytes(data[pos:pos + 4], 'little')
        if size < 5 or pos + size > len(data):
            break
        yield bson.decode(data[pos:pos + size], CODEC)
        pos += size


class Store:
    """Collections by namespace ("<db>.<collection>"), and their data file:
    a log of records {ns, doc} (the document as it now is) and {ns, del:
    _id}, replayed in order at start. commit() appends one command's records
    with a single write; when the log has grown past COMPACT_FACTOR times
    the live data (and COMPACT_MIN_BYTES), it is rewritten as one record per
    live document, through PATH.tmp and os.replace. So a mutation costs
    what it changed, not the whole state, and the file is always a complete
    state."""

    def __init__(self, path):
        self.path = path
        self.colls = {}
        self.pending = []
        self.live_bytes = 0
        self.log_bytes = 0
        if os.path.exists(path):
            for record in read_records(path):
                coll = self.coll(record['ns'])
                if 'doc' in record:
                    coll.put(record['doc'])
                elif canon(record['del']) in coll.entries:
                    coll.remove(OrderedDict([('_id', record['del'])]))
        self.pending = []
        self.compact()  # also drops a torn last record

    def coll(self, ns):
        coll = self.colls.get(ns)
        if coll is None:
            coll = self.colls[ns] = Collection(ns, self)
        return coll

    def changed(self, old_entry, new_entry, record):
        """Called by a collection for each change: `old_entry` is replaced
        by `new_entry` (either may be None), `record` replays it."""
        if old_entry is not None:
            self.live_bytes -= len(old_entry.record)
        if new_entry is not None:
            self.live_bytes += len(new_entry.record)
        self.pending.append(record)

    def commit(self):
        """Makes the changes of one command durable (before its reply)."""
        if not self.pending:
            return
        data = b''.join(self.pending)
        self.pending = []
        os.write(self.fd, data)
        self.log_bytes += len(data)
        if self.log_bytes > max(COMPACT_MIN_BYTES,
                                COMPACT_FACTOR * self.live_bytes):
            self.compact()

    def compact(self):
        """Rewrites the file as one record per live document."""
        data = b''.join(entry.record for coll in self.colls.values()
                        for entry in coll.entries.values())
        tmp = self.path + '.tmp'
        with open(tmp, 'wb') as f:
            f.write(data)
        os.replace(tmp, self.path)
        if getattr(self, 'fd', None) is not None:
            os.close(self.fd)
        self.fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)
        self.live_bytes = self.log_bytes = len(data)

    def update(self, ns, cmd):
        coll = self.coll(ns)
        ordered = cmd.get('ordered', True)
        n = modified = 0
        upserted, errors = [], []
        for index, item in enumerate(cmd.get('updates', [])):
            query, update = item.get('q', {}), item.get('u', {})
            hits = coll.select(query, 0 if item.get('multi') else 1)
            for entry in hits:
                new = apply_update(entry.doc, update, False)
                if canon(new) != canon(entry.doc):
                    coll.put(new)
                    modified += 1
            n += len(hits)
            if hits or not item.get('upsert'):
                continue
            new = apply_update(upsert_seed(query), update, True)
            if canon(new['_id']) in coll.entries:
                errors.append(OrderedDict([
                    ('index', index), ('code', CODE_DUPLICATE_KEY),
                    ('errmsg', 'E11000 duplicate key error collection: %s '
                               'index: _id_ dup key' % ns)]))
                if ordered:
                    break
                continue
            coll.put(new)
            n += 1
            upserted.append(OrderedDict([('index', index),
                                         ('_id', new['_id'])]))
        reply = OrderedDict([('n', n), ('nModified', modified)])
        if upserted:
            reply['upserted'] = upserted
        if errors:
            reply['writeErrors'] = errors
        reply['ok'] = 1
        return reply

    def delete(self, ns, cmd):
        coll = self.coll(ns)
        n = 0
        for item in cmd.get('deletes', []):
            limit = item.get('limit', 0)
            if limit not in (0, 1):
                raise Unsupported('delete limit %r' % limit)
            for entry in coll.select(item.get('q', {}), limit):
                coll.remove(entry.doc)
                n += 1
        return OrderedDict([('n', n), ('ok', 1)])

    def find(self, ns, cmd):
        for option in UNSUPPORTED_FIND_OPTIONS:
            if option in cmd:
                raise Unsupported('find option %s' % option)
        limit = abs(int(cmd.get('limit', 0)))
        projection = cmd.get('projection')
        key = canon(projection) if projection else None
        batch = [entry.reply_doc(projection, key)
                 for entry in self.coll(ns).select(cmd.get('filter', {}),
                                                   limit)]
        cursor = OrderedDict([('firstBatch', batch), ('id', Int64(0)),
                              ('ns', ns)])
        return OrderedDict([('cursor', cursor), ('ok', 1)])


def project(doc, projection):
    spec = OrderedDict((k, bool(v)) for k, v in projection.items())
    keep_id = spec.pop('_id', True)
    if any('.' in k or k.startswith('$') for k in spec):
        raise Unsupported('projection %r' % list(spec))
    values = set(spec.values())
    if len(values) > 1:
        raise Unsupported('mixed inclusion and exclusion projection')
    include = values == {True}
    out = OrderedDict()
    for k, v in doc.items():
        if k == '_id':
            if keep_id:
                out[k] = v
        elif (k in spec) == include:
            out[k] = v
    return out


# -- serving -------------------------------------------------------------------

def cheap_repr(self):
    return '<%s>' % type(self).__name__


# mockupdb formats a JSON repr of every request and reply for its verbose
# log even when logging is off: ~0.1 ms per document, 0.2 s for the reply
# that loads a 2 000-key session. Nothing else uses these reprs.
for _cls in (mockupdb.Request, mockupdb.OpQuery, mockupdb.OpKillCursors,
             mockupdb.Reply, mockupdb.OpMsgReply):
    _cls.__repr__ = cheap_repr

NO_OP_COMMANDS = ('createindexes', 'ping', 'endsessions', 'killcursors')
HANDSHAKE_COMMANDS = ('hello', 'ismaster')


def error_reply(code, message):
    print(message, file=sys.stderr, flush=True)
    return OrderedDict([('ok', 0), ('code', code), ('errmsg', message)])


def handle(store, request):
    """The reply document for one request; its changes are durable."""
    cmd = request.doc
    name = request.command_name or ''
    lowered = name.lower()
    if lowered in HANDSHAKE_COMMANDS:
        return dict(HELLO, ok=1)
    if lowered in NO_OP_COMMANDS:
        return {'ok': 1}
    methods = {'update': store.update, 'delete': store.delete,
               'find': store.find}
    if name not in methods:
        return error_reply(CODE_COMMAND_NOT_FOUND,
                           'mini_mongod: unsupported %s' % name)
    ns = '%s.%s' % (request.namespace, cmd[name])
    try:
        reply = methods[name](ns, cmd)
    except Unsupported as e:
        # A partial change (an ordered batch that stopped) is still saved.
        store.commit()
        return error_reply(CODE_BAD_VALUE,
                           'mini_mongod: unsupported %s in %s' % (e, name))
    store.commit()
    return reply


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--data-file', required=True)
    parser.add_argument('--port', type=int, default=0)
    args = parser.parse_args()
    store = Store(args.data_file)
    server = MockupDB(port=args.port or None, auto_ismaster=HELLO,
                      request_timeout=FOREVER_S)
    print(server.run(), flush=True)
    while True:
        # Straight from mockupdb's queue, not server.receives(): its matcher
        # reads the request's peer address, which raises once the client
        # hung up (mockupdb 1.8), e.g. after a socket timeout while we were
        # paused. Such a request is still executed, as a real server would;
        # only its reply goes nowhere.
        try:
            request = server._request_q.get(timeout=FOREVER_S)
        except queue.Empty:
            continue
        try:
            reply = handle(store, request)
        except Exception as e:  # keep serving; the test sees the error
            store.commit()  # what did change stays in step with the file
            reply = error_reply(CODE_INTERNAL,
                                'mini_mongod: internal error %r' % (e,))
        try:
            request.replies(reply)
        except OSError:
            pass  # the client gave up (socket timeout) and hung up


if __name__ == '__main__':
    main()
