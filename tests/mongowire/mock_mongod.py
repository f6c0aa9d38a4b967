# mock_mongod.py -- a scripted MongoDB wire server for the mongowire tests.
#
# Why: the mongo_store tests must see the exact commands libmongoc sends and
# must answer them with replies a real mongod rarely produces on demand
# (duplicate keys, write errors, a hang-up mid-command, silence). mockupdb
# (Debian python3-mockupdb) speaks the wire protocol; this script turns it
# into a replay server driven by a plan, so every scenario lives in the C++
# test next to its assertions.
#
# Usage: /usr/bin/python3 mock_mongod.py '<plan JSON>'
#   plan = {"steps": [step, ...], "handshake": true}
#   step = {"reply": {...}}   answer with this document (extended JSON, so
#                             {"$numberLong": "7"} is an int64)
#        | {"hangup": true}   close the connection without answering
#        | {"silence": true}  never answer (the client must time out)
#   handshake false: do not answer hello/isMaster either (a server that
#   accepts connections and then says nothing).
#
# Output (stdout, one line each, flushed before the reply is sent): first
# the listening port, then for every command received (except the automatic
# handshake) {"n": i, "cmd": name, "doc": <canonical extended JSON>,
# "unexpected": bool}. Commands beyond the plan are recorded as unexpected
# and answered {ok: 0, code: 8}, so the C++ test sees them and fails.
# The script runs until it is killed.
import json
import sys

from bson import json_util
from mockupdb import MockupDB

HELLO = {'ismaster': True, 'isWritablePrimary': True, 'helloOk': True,
         'minWireVersion': 0, 'maxWireVersion': 13,
         'maxBsonObjectSize': 16777216, 'maxMessageSizeBytes': 48000000,
         'maxWriteBatchSize': 100000}
FOREVER_S = 3600


def record(n, request, unexpected):
    doc = json_util.dumps(request.doc,
                          json_options=json_util.CANONICAL_JSON_OPTIONS)
    line = '{"n": %d, "cmd": %s, "unexpected": %s, "doc": %s}' % (
        n, json.dumps(request.command_name), json.dumps(unexpected), doc)
    print(line, flush=True)


def main():
    plan = json.loads(sys.argv[1])
    steps = plan.get('steps', [])
    auto = HELLO if plan.get('handshake', True) else None
    server = MockupDB(auto_ismaster=auto, request_timeout=FOREVER_S)
    port = server.run()
    print(port, flush=True)
    n = 0
    while True:
        request = server.receives(timeout=FOREVER_S)
        step = steps[n] if n < len(steps) else None
        record(n, request, step is None)
        n += 1
        if step is None:
            request.command_err(8, 'mock: unexpected command')
        elif 'reply' in step:
            request.replies(json_util.loads(json.dumps(step['reply'])))
        elif step.get('hangup'):
            request.hangup()
        # silence: leave the request unanswered.


if __name__ == '__main__':
    main()
