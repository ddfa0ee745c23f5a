// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {ISettlementLedger} from "../interfaces/ISettlementLedger.sol";

/// @title LedgerStorage
/// @notice SettlementLedger's storage as one struct, so the ledger can hand all of it to its linked modules
/// in one reference.
/// @dev The ledger declares one {Layout} right after its OpenZeppelin bases (slots 2 on).
library LedgerStorage {
    /// @param periods the stored facts of each agreement-period
    /// @param disputes the stored facts of each agreement-period's dispute
    /// @param tallies officer-slot bitmaps of approvals below threshold, per agreement-period; index =
    /// officerNonce << 2 | side << 1 | (partial ? 1 : 0), so a tally gathered under an older officer set
    /// is never read again (I-1)
    /// @param balances each carrier's escrow per token: the balance (reserved part included) and its reserved
    /// part, in one slot, so a settlement reads both with one storage access
    /// @param reservations the reservation each agreement-period's payer holds (at most one at a time)
    /// @notice A carrier's escrow in one token. Token amounts above 2^128 are refused at deposit.
    /// @param escrow the balance, reserved part included
    /// @param reserved the part reserved for approved settlements (≤ escrow)
    struct Balance {
        uint128 escrow;
        uint128 reserved;
    }

    struct Layout {
        mapping(bytes32 agreementId => mapping(uint32 period => ISettlementLedger.PeriodRecord)) periods;
        mapping(bytes32 agreementId => mapping(uint32 period => ISettlementLedger.DisputeRecord)) disputes;
        mapping(bytes32 agreementId => mapping(uint32 period => mapping(uint256 index => uint256))) tallies;
        mapping(bytes32 carrierId => mapping(address token => Balance)) balances;
        mapping(bytes32 agreementId => mapping(uint32 period => ISettlementLedger.Reservation)) reservations;
    }
}
