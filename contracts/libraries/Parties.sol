// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {ISettlementLedger} from "../interfaces/ISettlementLedger.sol";
import {ICarrierRegistry} from "../interfaces/ICarrierRegistry.sol";
import {PeriodLib} from "./PeriodLib.sol";

/// @title Parties
/// @notice Which side of a period's agreement a carrier, the calling node or the calling officer is on
/// (0 for carrier A, 1 for carrier B); each check reverts with the ledger's error when there is none.
library Parties {
    /// @notice The side of `carrierId`; reverts with {ISettlementLedger-LedgerNotParty} if not a party.
    function sideOf(PeriodLib.Context memory c, bytes32 carrierId) internal pure returns (uint8) {
        if (carrierId == c.terms.carrierA) return 0;
        if (carrierId == c.terms.carrierB) return 1;
        revert ISettlementLedger.LedgerNotParty(c.agreementId, carrierId);
    }

    /// @notice The carrier and side whose node is `msg.sender`; reverts with
    /// {ISettlementLedger-LedgerNotPartyNode} unless it is a node of either party.
    function nodeSide(
        PeriodLib.Context memory c,
        ICarrierRegistry registry
    ) internal view returns (bytes32 carrierId, uint8 side) {
        carrierId = registry.carrierOfNode(msg.sender);
        if (carrierId == bytes32(0) || (carrierId != c.terms.carrierA && carrierId != c.terms.carrierB)) {
            revert ISettlementLedger.LedgerNotPartyNode(c.agreementId, msg.sender);
        }
        side = carrierId == c.terms.carrierA ? 0 : 1;
    }

    /// @notice The side of `carrierId`, of which `msg.sender` must be an officer; reverts with
    /// {ISettlementLedger-LedgerNotParty} or {ISettlementLedger-LedgerNotOfficer}.
    function officerSide(
        PeriodLib.Context memory c,
        ICarrierRegistry registry,
        bytes32 carrierId
    ) internal view returns (uint8 side) {
        side = sideOf(c, carrierId);
        if (!registry.isOfficer(carrierId, msg.sender)) {
            revert ISettlementLedger.LedgerNotOfficer(carrierId, msg.sender);
        }
    }
}
