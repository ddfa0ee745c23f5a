/**
 * What the gateway's sign-in keeps in the node's database: SIWE challenges, sessions and API tokens
 * (SQL in node/src/db/gateway-auth.ts). The gateway holds the node's database handle and reads and
 * writes through this store only.
 */
import type { Database } from "../db/database";
import {
  consumeChallengeAndOpenSession,
  findChallenge,
  findLiveSession,
  findLiveToken,
  insertChallenge,
  insertToken,
  listTokens,
  purgeExpiredChallenges,
  refreshSessionRoles,
  revokeSession,
  revokeToken,
  touchSession,
  touchToken,
} from "../db/gateway-auth";

export type { StoredSession } from "../db/gateway-auth";

type Rest<F> = F extends (db: Database, ...rest: infer R) => infer T ? (...rest: R) => T : never;
const bind = <F extends (db: Database, ...rest: never[]) => unknown>(db: Database, f: F): Rest<F> =>
  ((...rest: never[]) => f(db, ...rest)) as Rest<F>;

/**
 * The sign-in store on `db`: each function is node/src/db/gateway-auth.ts's of the same name, and may
 * throw UnavailableError when the database is down.
 */
export function signInStore(db: Database) {
  return {
    insertChallenge: bind(db, insertChallenge),
    purgeExpiredChallenges: bind(db, purgeExpiredChallenges),
    findChallenge: bind(db, findChallenge),
    consumeChallengeAndOpenSession: bind(db, consumeChallengeAndOpenSession),
    findLiveSession: bind(db, findLiveSession),
    touchSession: bind(db, touchSession),
    refreshSessionRoles: bind(db, refreshSessionRoles),
    revokeSession: bind(db, revokeSession),
    insertToken: bind(db, insertToken),
    listTokens: bind(db, listTokens),
    findLiveToken: bind(db, findLiveToken),
    touchToken: bind(db, touchToken),
    revokeToken: bind(db, revokeToken),
  };
}
