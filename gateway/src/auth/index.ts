/**
 * The gateway's authentication as the rest of the gateway uses it: `authenticate(deps)` (who is
 * asking), `requireCsrf()` (sessions' state-changing requests), `rateLimit(options)` (sign-in,
 * uploads), `authRouter(deps)` (the `/api/v1/auth` routes) and the role resolvers. Authorization
 * (which principal may call which route) lives with the route table in gateway/src/api/.
 */
export { authenticate, requireCsrf } from "./authenticate";
export { type AuthDeps, CHALLENGE_TTL_MS } from "./deps";
export { rateLimit, type RateLimitOptions } from "./rate-limit";
export { chainRoleResolver, staticRoleResolver, type RoleResolver, type RegistryRoles } from "./roles";
export { AUTH_PREFIX, authRouter } from "./router";
export { CSRF_HEADER, SESSION_COOKIE, TOKEN_PREFIX } from "./secrets";
export { ROLES, type GatewayLocals, type Principal, type Role } from "./types";
