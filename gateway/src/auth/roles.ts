/**
 * Who holds which role. Officers, arbiters and regulators are on-chain identities, so the ledger's
 * registry answers for them; operators and admins are this node's own staff, listed in its config.
 * The gateway asks through {@link RoleResolver} so tests run without a chain.
 */
import { getAddress, id } from "ethers";
import { toChainError } from "../../../node/src/chain/errors";
import { ROLES, type Role } from "./types";

export interface RoleResolver {
  /**
   * The roles `address` holds now, in {@link ROLES} order; empty when it holds none.
   * @throws UnavailableError (or another retryable BaseError) when the source cannot be asked.
   */
  rolesOf(address: string): Promise<Role[]>;
}

/** What the resolver needs of the CarrierRegistry contract (the typechain contract fits). */
export interface RegistryRoles {
  isOfficer(carrierId: string, account: string): Promise<boolean>;
  hasRole(role: string, account: string): Promise<boolean>;
}

// CarrierRegistry's `bytes32 public constant`s; computed here rather than read on every sign-in.
export const ARBITER_ROLE = id("ARBITER_ROLE");
export const REGULATOR_ROLE = id("REGULATOR_ROLE");

export interface ChainRoleOptions {
  registry: RegistryRoles;
  /** This node's carrier (bytes32), whose officers sign in as `officer`. */
  carrierId: string;
  /** `gateway.admins` of the config. */
  admins: readonly string[];
  /** `gateway.operators` of the config. */
  operators: readonly string[];
}

/**
 * Roles from the ledger's registry (officer of this node's carrier, ARBITER_ROLE, REGULATOR_ROLE)
 * and the config's admin and operator lists.
 * @throws from `rolesOf`: the chain error (retryable when the RPC node is unreachable).
 */
export function chainRoleResolver(options: ChainRoleOptions): RoleResolver {
  const configured = staticRoleResolver({ admin: options.admins, operator: options.operators });
  return {
    async rolesOf(address) {
      const account = getAddress(address);
      let officer: boolean, arbiter: boolean, regulator: boolean;
      try {
        [officer, arbiter, regulator] = await Promise.all([
          options.registry.isOfficer(options.carrierId, account),
          options.registry.hasRole(ARBITER_ROLE, account),
          options.registry.hasRole(REGULATOR_ROLE, account),
        ]);
      } catch (error) {
        throw toChainError(error, "registry roles");
      }
      const held = new Set<Role>(await configured.rolesOf(account));
      if (officer) held.add("officer");
      if (arbiter) held.add("arbiter");
      if (regulator) held.add("regulator");
      return ROLES.filter((role) => held.has(role));
    },
  };
}

/** Roles from fixed address lists (the config's admins and operators; tests' fakes). */
export function staticRoleResolver(lists: Partial<Record<Role, readonly string[]>>): RoleResolver {
  const holders = new Map<Role, Set<string>>(
    ROLES.map((role) => [role, new Set((lists[role] ?? []).map((a) => a.toLowerCase()))]),
  );
  return {
    async rolesOf(address) {
      const key = address.toLowerCase();
      return ROLES.filter((role) => holders.get(role)!.has(key));
    },
  };
}
