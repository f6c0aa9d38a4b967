// codec.js -- Baileys values to the patch JSON and back, exactly as Baileys'
// own useMultiFileAuthState stores and loads them.
//
// Baileys' file store (baileys/lib/Utils/use-multi-file-auth-state.js, v7)
// writes each value as JSON.stringify(value, BufferJSON.replacer), reads it
// with JSON.parse(text, BufferJSON.reviver) -- one file per value, so the
// reviver sees each value as a root -- and rebuilds an app-state-sync-key
// with proto.Message.AppStateSyncKeyData.fromObject. Here the values arrive
// inside an envelope ({"version": V, "keys": {...}}); the envelope is parsed
// plainly and each value is revived on its own (reviveValue), so the result
// is the same as the file store's even for a map whose ids are all numeric
// and whose values are all numbers (which the reviver, run over the whole
// envelope, would turn into a Buffer).
//
// Serialization happens when a caller calls saveCreds/keys.set, not when the
// request is sent: Baileys mutates creds and key objects in place afterwards.
import { BufferJSON, proto } from 'baileys'

/// JSON text of one value the way Baileys v7 stores it (Buffers and
/// Uint8Arrays as {"type":"Buffer","data":"<base64>"}).
export function encodeValue(value) {
  return JSON.stringify(value, BufferJSON.replacer)
}

function setOwn(target, key, value) {
  // JSON.parse makes "__proto__" an own property; plain assignment would set
  // the prototype instead.
  if (key === '__proto__') {
    Object.defineProperty(target, key, {
      value, writable: true, enumerable: true, configurable: true
    })
  } else {
    target[key] = value
  }
}

/// `value` (plain parsed JSON) revived as JSON.parse(text, BufferJSON.reviver)
/// would revive it as the root: bottom-up, every node through the reviver.
export function reviveValue(value) {
  if (value !== null && typeof value === 'object') {
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; ++i) value[i] = reviveValue(value[i])
    } else {
      for (const key of Object.keys(value)) {
        setOwn(value, key, reviveValue(value[key]))
      }
    }
  }
  return BufferJSON.reviver('', value)
}

/// A key value as keys.get returns it: revived, and an app-state-sync-key
/// rebuilt as the protobuf message Baileys' file store returns.
export function reviveKey(type, value) {
  const revived = reviveValue(value)
  if (type === 'app-state-sync-key' && revived) {
    return proto.Message.AppStateSyncKeyData.fromObject(revived)
  }
  return revived
}

/// The patch text for a keys.set(data) call: every type and id in one write;
/// a falsy value deletes (the file store's `value ? write : remove`).
export function encodeKeysPatch(data) {
  const keys = {}
  let count = 0
  for (const type in data) {
    const ids = data[type]
    if (!ids) continue
    const out = {}
    let inType = 0
    for (const id in ids) {
      out[id] = ids[id] ? ids[id] : null
      ++inType
    }
    // A type left empty (Baileys' pre-key validation drops deletions of
    // absent pre-keys from the map) is not sent.
    if (inType > 0) keys[type] = out
    count += inType
  }
  return count === 0 ? undefined : `"keys":${encodeValue(keys)}`
}

/// The patch text for saveCreds(): every field of `creds` now, and null for
/// a field the store may hold that `creds` no longer has (the file store
/// rewrites the whole file, so a removed field disappears there too).
/// `known` (a Set of field names ever loaded or sent) is extended.
export function encodeCredsPatch(creds, known) {
  const out = {}
  for (const field of known) out[field] = null
  for (const field of Object.keys(creds)) {
    if (creds[field] !== undefined) {
      setOwn(out, field, creds[field])
      known.add(field)
    }
  }
  return `"creds":${encodeValue(out)}`
}
