// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {ISettlementLedger} from "../interfaces/ISettlementLedger.sol";
import {PeriodLib} from "./PeriodLib.sol";

/// @title PeriodDisputes
/// @notice The dispute transitions of the period state machine ({PeriodLib}): opening a dispute on a Mismatched
/// period or contesting a default, proposals and their acceptance, escalation, the arbiter's ruling and the
/// opener's withdrawal. Each holds the states it is allowed from (through {PeriodLib-expect}), the rules on the
/// records it enforces and all its effects on the period and dispute records.
/// @dev Internal functions only, compiled into {LedgerDisputes}. Callers check who may act (officer, arbiter)
/// and emit the events that carry call data the records do not hold (reason codes, CIDs).
library PeriodDisputes {
    /// @notice Mismatched → Disputed, opened by `side`.
    function openDispute(
        ISettlementLedger.PeriodRecord storage self,
        ISettlementLedger.DisputeRecord storage dispute,
        PeriodLib.Context memory c,
        uint8 side
    ) internal {
        PeriodLib.expect(c, PeriodLib.bit(ISettlementLedger.PeriodState.Mismatched));
        _open(self, dispute, side);
    }

    /// @notice Defaulted → Disputed: the silent `side` states its claim and opens the dispute. A side that
    /// committed in the round must open its commitment with `claim` (M-2): its claim is then the committed
    /// figures and its record holds the committed root. A side that did not commit states any figures.
    /// @return root the root the claim opened (zero when the side had not committed)
    function contestDefault(
        ISettlementLedger.PeriodRecord storage self,
        ISettlementLedger.DisputeRecord storage dispute,
        PeriodLib.Context memory c,
        uint8 side,
        bytes32 carrierId,
        ISettlementLedger.Claim memory claim
    ) internal returns (bytes32 root) {
        PeriodLib.expect(c, PeriodLib.bit(ISettlementLedger.PeriodState.Defaulted));
        if ((side == 0 ? self.statusA : self.statusB) != 0) {
            revert ISettlementLedger.LedgerWrongParty(c.agreementId, c.period, carrierId);
        }
        root = _openedRoot(self, c, side, carrierId, claim);
        PeriodLib.storeClaim(self, side, root, claim.amountAB, claim.amountBA, PeriodLib.CLAIMED);
        _open(self, dispute, side);
    }

    /// @dev The root `claim` opens of `side`'s commitment, zero when `side` did not commit; reverts with
    /// {ISettlementLedger-LedgerCommitmentMismatch} when the claim does not open the commitment.
    function _openedRoot(
        ISettlementLedger.PeriodRecord storage self,
        PeriodLib.Context memory c,
        uint8 side,
        bytes32 carrierId,
        ISettlementLedger.Claim memory claim
    ) private view returns (bytes32) {
        bytes32 committed = side == 0 ? self.hashA : self.hashB;
        if (committed == bytes32(0)) return bytes32(0);
        bytes32 computed = PeriodLib.commitment(
            c.agreementId,
            c.period,
            self.round,
            carrierId,
            claim.root,
            claim.amountAB,
            claim.amountBA,
            claim.salt
        );
        if (computed != committed) {
            revert ISettlementLedger.LedgerCommitmentMismatch(c.agreementId, c.period, committed, computed);
        }
        return claim.root;
    }

    /// @notice Disputed → Disputed: `side`'s (counter-)proposal, restarting the response window; at most
    /// {PeriodLib.MAX_PROPOSALS} per dispute.
    function propose(
        ISettlementLedger.DisputeRecord storage dispute,
        PeriodLib.Context memory c,
        uint8 side,
        uint96 amountAB,
        uint96 amountBA
    ) internal {
        PeriodLib.expect(c, PeriodLib.bit(ISettlementLedger.PeriodState.Disputed));
        if (dispute.proposals >= PeriodLib.MAX_PROPOSALS) {
            revert ISettlementLedger.LedgerProposalLimit(c.agreementId, c.period, PeriodLib.MAX_PROPOSALS);
        }
        ++dispute.proposals;
        (dispute.proposer, dispute.proposedAB, dispute.proposedBA, dispute.lastActionAt) = (
            side + 1,
            amountAB,
            amountBA,
            uint40(block.timestamp)
        );
    }

    /// @notice Disputed → Resolved at the other side's proposal, within the response window, if it still is
    /// (`amountAB`, `amountBA`): the figures the accepting side names.
    /// @return proposedAB the accepted proposal's A→B figure
    /// @return proposedBA the accepted proposal's B→A figure
    function acceptProposal(
        ISettlementLedger.DisputeRecord storage dispute,
        PeriodLib.Context memory c,
        uint8 side,
        bytes32 carrierId,
        uint96 amountAB,
        uint96 amountBA
    ) internal returns (uint96 proposedAB, uint96 proposedBA) {
        PeriodLib.expect(c, PeriodLib.bit(ISettlementLedger.PeriodState.Disputed));
        if (dispute.proposer == 0) revert ISettlementLedger.LedgerNoProposal(c.agreementId, c.period);
        if (dispute.proposer == side + 1) {
            revert ISettlementLedger.LedgerWrongParty(c.agreementId, c.period, carrierId);
        }
        (proposedAB, proposedBA) = (dispute.proposedAB, dispute.proposedBA);
        if (proposedAB != amountAB || proposedBA != amountBA) {
            revert ISettlementLedger.LedgerProposalChanged(c.agreementId, c.period, proposedAB, proposedBA);
        }
        uint256 deadline = dispute.lastActionAt + uint256(c.terms.windows.response);
        if (block.timestamp > deadline) {
            revert ISettlementLedger.LedgerDeadlinePassed(c.agreementId, c.period, deadline);
        }
        _resolve(dispute, ISettlementLedger.Resolution.Accepted, proposedAB, proposedBA);
    }

    /// @notice Disputed → Escalated, once the response window after the last step has passed.
    /// @return arbitrationDeadline the last second the arbiter may rule
    function escalate(
        ISettlementLedger.DisputeRecord storage dispute,
        PeriodLib.Context memory c
    ) internal returns (uint256 arbitrationDeadline) {
        PeriodLib.expect(c, PeriodLib.bit(ISettlementLedger.PeriodState.Disputed));
        uint256 notBefore = dispute.lastActionAt + uint256(c.terms.windows.response) + 1;
        if (block.timestamp < notBefore)
            revert ISettlementLedger.LedgerTooEarly(c.agreementId, c.period, notBefore);
        dispute.escalatedAt = uint40(block.timestamp);
        return block.timestamp + c.terms.windows.arbitration;
    }

    /// @notice Escalated → Resolved at the arbiter's figures, each direction between the two claims.
    function arbitrate(
        ISettlementLedger.PeriodRecord storage self,
        ISettlementLedger.DisputeRecord storage dispute,
        PeriodLib.Context memory c,
        uint96 amountAB,
        uint96 amountBA
    ) internal {
        PeriodLib.expect(c, PeriodLib.bit(ISettlementLedger.PeriodState.Escalated));
        _checkRange(c, amountAB, self.amountABofA, self.amountABofB);
        _checkRange(c, amountBA, self.amountBAofA, self.amountBAofB);
        _resolve(dispute, ISettlementLedger.Resolution.Ruled, amountAB, amountBA);
    }

    /// @notice Disputed → Resolved at the other party's claims: the opener `side` withdraws (concedes).
    /// @return amountAB the conceded A→B figure
    /// @return amountBA the conceded B→A figure
    function withdrawDispute(
        ISettlementLedger.PeriodRecord storage self,
        ISettlementLedger.DisputeRecord storage dispute,
        PeriodLib.Context memory c,
        uint8 side,
        bytes32 carrierId
    ) internal returns (uint96 amountAB, uint96 amountBA) {
        PeriodLib.expect(c, PeriodLib.bit(ISettlementLedger.PeriodState.Disputed));
        if (dispute.opener != side + 1)
            revert ISettlementLedger.LedgerWrongParty(c.agreementId, c.period, carrierId);
        (amountAB, amountBA) = side == 0
            ? (self.amountABofB, self.amountBAofB)
            : (self.amountABofA, self.amountBAofA);
        _resolve(dispute, ISettlementLedger.Resolution.Withdrawn, amountAB, amountBA);
    }

    /// @dev Flags the period disputed and opens its dispute record for `side`.
    function _open(
        ISettlementLedger.PeriodRecord storage self,
        ISettlementLedger.DisputeRecord storage dispute,
        uint8 side
    ) private {
        self.flags |= PeriodLib.DISPUTED;
        (dispute.openedAt, dispute.lastActionAt, dispute.opener) = (
            uint40(block.timestamp),
            uint40(block.timestamp),
            side + 1
        );
    }

    function _resolve(
        ISettlementLedger.DisputeRecord storage dispute,
        ISettlementLedger.Resolution resolution,
        uint96 amountAB,
        uint96 amountBA
    ) private {
        (dispute.resolution, dispute.resolvedAB, dispute.resolvedBA, dispute.resolvedAt) = (
            resolution,
            amountAB,
            amountBA,
            uint40(block.timestamp)
        );
    }

    function _checkRange(PeriodLib.Context memory c, uint256 amount, uint256 x, uint256 y) private pure {
        (uint256 low, uint256 high) = x <= y ? (x, y) : (y, x);
        if (amount < low || amount > high) {
            revert ISettlementLedger.LedgerRulingOutOfRange(c.agreementId, c.period, amount, low, high);
        }
    }
}
