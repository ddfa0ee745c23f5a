/**
 * The gateway's sign-in state: EIP-4361 challenges (single use, short-lived), the cookie sessions
 * they open and the API tokens admins issue to machines. Secrets are never stored: a session cookie
 * and a token are looked up by the sha256 of their value.
 */
export const sql = `
CREATE TABLE gateway_nonces (
  nonce         text PRIMARY KEY CHECK (nonce ~ '^[0-9a-f]{32}$'),
  address       text NOT NULL CHECK (address ~ '^0x[0-9a-fA-F]{40}$'),
  domain        text NOT NULL,
  uri           text NOT NULL,
  chain_id      text NOT NULL CHECK (chain_id ~ '^[0-9]{1,78}$'),
  message       text NOT NULL,
  issued_at     timestamptz NOT NULL,
  expires_at    timestamptz NOT NULL,
  used_at       timestamptz,
  CHECK (expires_at > issued_at)
);

CREATE INDEX gateway_nonces_expiry ON gateway_nonces (expires_at) WHERE used_at IS NULL;

CREATE TABLE gateway_sessions (
  id               text PRIMARY KEY CHECK (id ~ '^s_[0-9a-f]{32}$'),
  secret_sha256    text NOT NULL UNIQUE CHECK (secret_sha256 ~ '^[0-9a-f]{64}$'),
  nonce            text NOT NULL UNIQUE,
  address          text NOT NULL CHECK (address ~ '^0x[0-9a-fA-F]{40}$'),
  roles            text[] NOT NULL
                   CHECK (roles <@ ARRAY['operator', 'officer', 'arbiter', 'regulator', 'admin']::text[]),
  roles_checked_at timestamptz NOT NULL,
  csrf_token       text NOT NULL CHECK (csrf_token ~ '^[A-Za-z0-9_-]{43}$'),
  created_at       timestamptz NOT NULL,
  expires_at       timestamptz NOT NULL,
  last_seen_at     timestamptz NOT NULL,
  revoked_at       timestamptz,
  CHECK (expires_at > created_at)
);

CREATE TABLE gateway_tokens (
  id             text PRIMARY KEY CHECK (id ~ '^t_[0-9a-f]{32}$'),
  secret_sha256  text NOT NULL UNIQUE CHECK (secret_sha256 ~ '^[0-9a-f]{64}$'),
  name           text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  scopes         text[] NOT NULL,
  roles          text[] NOT NULL
                 CHECK (roles <@ ARRAY['operator', 'officer', 'arbiter', 'regulator', 'admin']::text[]),
  issued_by      text NOT NULL CHECK (issued_by ~ '^0x[0-9a-fA-F]{40}$'),
  created_at     timestamptz NOT NULL,
  expires_at     timestamptz NOT NULL,
  last_used_at   timestamptz,
  revoked_at     timestamptz,
  CHECK (expires_at > created_at)
);
`;
