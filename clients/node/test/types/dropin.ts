// Compile-only (tsc --noEmit, see tsconfig.json): the README's integration
// type-checks against Baileys' own declarations, and the error fields are
// what index.d.ts promises. Never run.
import makeWASocket, { makeCacheableSignalKeyStore, type SignalDataTypeMap } from 'baileys'
import { AuthstoreError, useAuthstoreAuthState } from '@authstore/baileys'

declare const logger: Parameters<typeof makeCacheableSignalKeyStore>[1]

export async function main(): Promise<void> {
  const { state, saveCreds, flush, close, removeSession } = await useAuthstoreAuthState({
    url: 'http://127.0.0.1:8080',
    token: process.env.AUTHSTORE_SECRET,
    sessionId: '5511999999999'
  })
  const sock = makeWASocket({
    auth: { creds: state.creds, keys: makeCacheableSignalKeyStore(state.keys, logger) }
  })
  sock.ev.on('creds.update', saveCreds)
  const preKeys: { [id: string]: SignalDataTypeMap['pre-key'] } = await state.keys.get('pre-key', ['1'])
  await state.keys.set({ 'pre-key': { 1: null }, session: { a: new Uint8Array(1) } })
  await flush()
  try {
    await removeSession()
  } catch (err) {
    if (err instanceof AuthstoreError) {
      const code: string = err.code
      const fields: [number, boolean, boolean] = [err.status, err.retryable, err.mayHaveApplied]
      void code
      void fields
    }
  }
  void preKeys
  await close()
}
