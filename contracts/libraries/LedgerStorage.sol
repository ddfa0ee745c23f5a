// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {ISettlementLedger} from "../interfaces/ISettlementLedger.sol";

/// @title LedgerStorage
/// @notice SettlementLedger's storage as one struct, so the ledger can hand all of it to its linked modules
/// in one reference.
/// @dev The ledger declares one {Layout} right after its OpenZeppelin bases, so the four maps keep the slots
/// they had as separate state variables (2 to 5): the storage itself is unchanged.
library LedgerStorage {
    /// @param periods the stored facts of each agreement-period
    /// @param disputes the stored facts of each agreement-period's dispute
    /// @param tallies officer-slot bitmaps of approvals below threshold, per agreement-period; index =
    /// side * 2 + (partial ? 1 : 0)
    /// @param escrow each carrier's escrow balance per token
    struct Layout {
        mapping(bytes32 agreementId => mapping(uint32 period => ISettlementLedger.PeriodRecord)) periods;
        mapping(bytes32 agreementId => mapping(uint32 period => ISettlementLedger.DisputeRecord)) disputes;
        mapping(bytes32 agreementId => mapping(uint32 period => mapping(uint256 index => uint256))) tallies;
        mapping(bytes32 carrierId => mapping(address token => uint256)) escrow;
    }
}
