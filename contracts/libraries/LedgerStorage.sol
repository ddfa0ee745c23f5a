// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {ISettlementLedger} from "../interfaces/ISettlementLedger.sol";

/// @title LedgerStorage
/// @notice SettlementLedger's storage as one struct, so the ledger can hand all of it to its linked modules
/// in one reference.
/// @dev The ledger declares one {Layout} right after its OpenZeppelin bases, so the first four maps keep the
/// slots they had as separate state variables (2 to 5); new maps go at the end.
library LedgerStorage {
    /// @param periods the stored facts of each agreement-period
    /// @param disputes the stored facts of each agreement-period's dispute
    /// @param tallies officer-slot bitmaps of approvals below threshold, per agreement-period; index =
    /// officerNonce << 2 | side << 1 | (partial ? 1 : 0), so a tally gathered under an older officer set
    /// is never read again (I-1)
    /// @param escrow each carrier's escrow balance per token, reserved part included
    /// @param reserved the part of each carrier's escrow per token reserved for approved settlements
    /// @param reservations the reservation each agreement-period's payer holds (at most one at a time)
    struct Layout {
        mapping(bytes32 agreementId => mapping(uint32 period => ISettlementLedger.PeriodRecord)) periods;
        mapping(bytes32 agreementId => mapping(uint32 period => ISettlementLedger.DisputeRecord)) disputes;
        mapping(bytes32 agreementId => mapping(uint32 period => mapping(uint256 index => uint256))) tallies;
        mapping(bytes32 carrierId => mapping(address token => uint256)) escrow;
        mapping(bytes32 carrierId => mapping(address token => uint256)) reserved;
        mapping(bytes32 agreementId => mapping(uint32 period => ISettlementLedger.Reservation)) reservations;
    }
}
