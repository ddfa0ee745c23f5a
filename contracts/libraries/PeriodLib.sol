// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {ISettlementLedger} from "../interfaces/ISettlementLedger.sol";
import {IAgreementBook} from "../interfaces/IAgreementBook.sol";
import {PeriodMath} from "./PeriodMath.sol";
import {Tolerance} from "./Tolerance.sol";
import {LedgerStorage} from "./LedgerStorage.sol";

/// @title PeriodLib
/// @notice The period state machine over the stored facts of one agreement-period: the state derived from
/// its {ISettlementLedger-PeriodRecord} (and {ISettlementLedger-DisputeRecord}), the single transition
/// check, and every transition as one function holding the states it is allowed from, the rules on the
/// record it enforces and all the effects it has on the records; the dispute transitions are in the sibling
/// {PeriodDisputes}.
/// @dev Internal functions only, compiled into the ledger and into each module that uses them. Callers check who
/// may act (node, officer, arbiter) before calling a transition, and emit the events that carry call data
/// the records do not hold (reason codes, CIDs).
library PeriodLib {
    /// @notice Rounds per period: the first one plus corrections.
    uint8 internal constant MAX_ROUNDS = 3;

    /// @notice Proposals per dispute, both sides together (see SettlementLedger.MAX_PROPOSALS).
    uint8 internal constant MAX_PROPOSALS = 4;

    /// @dev Bits of {ISettlementLedger-PeriodRecord}`.flags`.
    uint8 internal constant APPROVED_A = 1;
    uint8 internal constant APPROVED_B = 2;
    uint8 internal constant PARTIAL_APPROVED_A = 4;
    uint8 internal constant PARTIAL_APPROVED_B = 8;
    uint8 internal constant PARTIAL_SETTLED = 16;
    uint8 internal constant SETTLED = 32;
    uint8 internal constant DISPUTED = 64;
    /// @dev Some carrier's officers left an approval tally below its threshold in storage (see
    /// LedgerApprovals): until then an approval reaching the threshold in one call reads no tally.
    uint8 internal constant TALLIED = 128;

    /// @dev Values of `statusA`/`statusB`.
    uint8 internal constant REVEALED = 1;
    uint8 internal constant CLAIMED = 2;

    /// @dev States whose figures are final: officers may approve them for settlement.
    uint256 internal constant FINAL_STATES =
        (1 << uint8(ISettlementLedger.PeriodState.Matched)) |
            (1 << uint8(ISettlementLedger.PeriodState.Reconciled)) |
            (1 << uint8(ISettlementLedger.PeriodState.Uncontested)) |
            (1 << uint8(ISettlementLedger.PeriodState.Resolved));
    /// @dev Final states that bind without approvals once their approval deadline has passed (M-4): a
    /// dispute's end and an uncontested default. Matched and Reconciled need both carriers' approvals.
    uint256 internal constant BINDING_STATES =
        (1 << uint8(ISettlementLedger.PeriodState.Uncontested)) |
            (1 << uint8(ISettlementLedger.PeriodState.Resolved));
    /// @dev States in which a node may commit: Committing, and Mismatched (a correction round).
    uint256 internal constant COMMIT_STATES =
        (1 << uint8(ISettlementLedger.PeriodState.Committing)) |
            (1 << uint8(ISettlementLedger.PeriodState.Mismatched));
    /// @dev States with an open dispute: officers may approve the undisputed part.
    uint256 internal constant DISPUTE_STATES =
        (1 << uint8(ISettlementLedger.PeriodState.Disputed)) |
            (1 << uint8(ISettlementLedger.PeriodState.Escalated));

    /// @notice Everything a step needs about its period, loaded once by {load}.
    /// @param state the derived state at load time
    /// @param terms the agreement version that governs the period (its `termsHash` left zero: see
    /// {IAgreementBook-ledgerTermsAt})
    struct Context {
        bytes32 agreementId;
        uint32 period;
        ISettlementLedger.PeriodState state;
        IAgreementBook.Terms terms;
    }

    // ---------------------------------------------------------------- state

    /// @notice Validates `period`, reads its terms from `book` and derives its state; returns the context
    /// with the period's record and dispute record in the ledger's storage `s`.
    function load(
        LedgerStorage.Layout storage s,
        IAgreementBook book,
        bytes32 agreementId,
        uint32 period
    )
        internal
        view
        returns (
            Context memory c,
            ISettlementLedger.PeriodRecord storage self,
            ISettlementLedger.DisputeRecord storage dispute
        )
    {
        PeriodMath.requireValid(period);
        c.terms = book.ledgerTermsAt(agreementId, period);
        c.agreementId = agreementId;
        c.period = period;
        (self, dispute) = (s.periods[agreementId][period], s.disputes[agreementId][period]);
        c.state = state(self, dispute, period, c.terms.windows);
    }

    /// @notice The derived state: Settled and Approved from the flags, otherwise {baseState}.
    function state(
        ISettlementLedger.PeriodRecord storage self,
        ISettlementLedger.DisputeRecord storage dispute,
        uint32 period,
        IAgreementBook.Windows memory windows
    ) internal view returns (ISettlementLedger.PeriodState) {
        uint8 flags = self.flags;
        if (flags & SETTLED != 0) return ISettlementLedger.PeriodState.Settled;
        if (_bothApproved(flags)) return ISettlementLedger.PeriodState.Approved;
        return baseState(self, dispute, period, windows);
    }

    /// @notice The state from the period's facts, ignoring approval and settlement flags.
    function baseState(
        ISettlementLedger.PeriodRecord storage self,
        ISettlementLedger.DisputeRecord storage dispute,
        uint32 period,
        IAgreementBook.Windows memory windows
    ) internal view returns (ISettlementLedger.PeriodState) {
        if (self.flags & DISPUTED != 0) {
            if (dispute.resolution != ISettlementLedger.Resolution.None) {
                return ISettlementLedger.PeriodState.Resolved;
            }
            if (dispute.escalatedAt == 0) return ISettlementLedger.PeriodState.Disputed;
            return
                block.timestamp > dispute.escalatedAt + uint256(windows.arbitration)
                    ? ISettlementLedger.PeriodState.Resolved
                    : ISettlementLedger.PeriodState.Escalated;
        }
        ISettlementLedger.Outcome outcome = self.outcome;
        if (outcome == ISettlementLedger.Outcome.Matched) return ISettlementLedger.PeriodState.Matched;
        if (outcome == ISettlementLedger.Outcome.Reconciled) return ISettlementLedger.PeriodState.Reconciled;
        if (outcome == ISettlementLedger.Outcome.Mismatched) return ISettlementLedger.PeriodState.Mismatched;
        uint256 start = currentRoundStart(self, period);
        if (block.timestamp < start) return ISettlementLedger.PeriodState.Pending;
        uint256 deadline = start + windows.commit;
        bool committedA = self.hashA != bytes32(0);
        bool committedB = self.hashB != bytes32(0);
        if (block.timestamp <= deadline && !(committedA && committedB)) {
            return ISettlementLedger.PeriodState.Committing;
        }
        if (!committedA && !committedB) return ISettlementLedger.PeriodState.Void;
        deadline += windows.reveal;
        if (block.timestamp <= deadline) return ISettlementLedger.PeriodState.Revealing;
        if (self.statusA == 0 && self.statusB == 0) {
            // A correction round nobody revealed leaves the period as the round before left it (L-2):
            // Mismatched at the figures still on record, not Void.
            return
                self.round == 0
                    ? ISettlementLedger.PeriodState.Void
                    : ISettlementLedger.PeriodState.Mismatched;
        }
        return
            block.timestamp <= deadline + windows.dispute
                ? ISettlementLedger.PeriodState.Defaulted
                : ISettlementLedger.PeriodState.Uncontested;
    }

    /// @notice The single transition check: reverts with {ISettlementLedger-LedgerUnexpectedState} unless
    /// the loaded state is in `allowed` (a bitmap, bit i = PeriodState(i)).
    function expect(Context memory c, uint256 allowed) internal pure {
        if (bit(c.state) & allowed == 0) {
            revert ISettlementLedger.LedgerUnexpectedState(
                c.agreementId,
                c.period,
                c.state,
                bytes32(allowed)
            );
        }
    }

    /// @notice The bit of `s` in a state bitmap.
    function bit(ISettlementLedger.PeriodState s) internal pure returns (uint256) {
        return uint256(1) << uint8(s);
    }

    /// @notice When the current round started: the period's end for round 0, the first commitment after.
    function currentRoundStart(
        ISettlementLedger.PeriodRecord storage self,
        uint32 period
    ) internal view returns (uint256) {
        return self.round == 0 ? PeriodMath.end(period) : self.roundStart;
    }

    /// @notice The deadlines of the period's current round and dispute (0 where not applicable).
    function deadlines(
        ISettlementLedger.PeriodRecord storage self,
        ISettlementLedger.DisputeRecord storage dispute,
        Context memory c
    ) internal view returns (ISettlementLedger.Deadlines memory dl) {
        IAgreementBook.Windows memory w = c.terms.windows;
        dl.roundStart = currentRoundStart(self, c.period);
        dl.commitDeadline = dl.roundStart + w.commit;
        dl.revealDeadline = dl.commitDeadline + w.reveal;
        dl.defaultDisputeDeadline = dl.revealDeadline + w.dispute;
        if (self.evaluatedAt != 0) dl.reconcileDeadline = self.evaluatedAt + uint256(w.reconcile);
        if (dispute.openedAt != 0) dl.responseDeadline = dispute.lastActionAt + uint256(w.response);
        if (dispute.escalatedAt != 0) {
            dl.arbitrationDeadline = dispute.escalatedAt + uint256(w.arbitration);
        }
        dl.approvalDeadline = approvalDeadline(self, dispute, c);
    }

    /// @notice The last second officers may approve a binding outcome before anyone may settle it without
    /// approvals: the response window after the figures became final. 0 unless the base state is one of
    /// {BINDING_STATES}.
    function approvalDeadline(
        ISettlementLedger.PeriodRecord storage self,
        ISettlementLedger.DisputeRecord storage dispute,
        Context memory c
    ) internal view returns (uint256) {
        IAgreementBook.Windows memory w = c.terms.windows;
        ISettlementLedger.PeriodState s = baseState(self, dispute, c.period, w);
        uint256 finalAt;
        if (s == ISettlementLedger.PeriodState.Uncontested) {
            finalAt = currentRoundStart(self, c.period) + w.commit + w.reveal + w.dispute;
        } else if (s == ISettlementLedger.PeriodState.Resolved) {
            // Resolved by a step at resolvedAt, or by the arbiter's silence at the end of its window.
            finalAt =
                dispute.resolvedAt != 0 ? dispute.resolvedAt : dispute.escalatedAt + uint256(w.arbitration);
        } else {
            return 0;
        }
        return finalAt + w.response;
    }

    /// @notice Whether both carriers reached their threshold on the final figures.
    function approvedByBoth(ISettlementLedger.PeriodRecord storage self) internal view returns (bool) {
        return _bothApproved(self.flags);
    }

    function _bothApproved(uint8 flags) private pure returns (bool) {
        return flags & (APPROVED_A | APPROVED_B) == APPROVED_A | APPROVED_B;
    }

    // ---------------------------------------------------------------- figures

    /// @notice The final figures; only meaningful when the base state is one of {FINAL_STATES}.
    function finalFigures(
        ISettlementLedger.PeriodRecord storage self,
        ISettlementLedger.DisputeRecord storage dispute,
        Context memory c
    ) internal view returns (uint96, uint96) {
        ISettlementLedger.PeriodState s = baseState(self, dispute, c.period, c.terms.windows);
        if (s == ISettlementLedger.PeriodState.Matched) return (self.amountABofA, self.amountBAofA);
        if (s == ISettlementLedger.PeriodState.Reconciled) return reconciledFigures(self, c.terms.rule);
        if (s == ISettlementLedger.PeriodState.Uncontested) {
            return
                self.statusA == REVEALED
                    ? (self.amountABofA, self.amountBAofA)
                    : (self.amountABofB, self.amountBAofB);
        }
        if (dispute.resolution != ISettlementLedger.Resolution.None) {
            return (dispute.resolvedAB, dispute.resolvedBA);
        }
        // Lapsed arbitration: the mean of the two claims per direction, rounded down.
        return (
            uint96((uint256(self.amountABofA) + self.amountABofB) / 2),
            uint96((uint256(self.amountBAofA) + self.amountBAofB) / 2)
        );
    }

    /// @notice The figures of a period within tolerance, per the agreement's `toleranceRule`.
    function reconciledFigures(
        ISettlementLedger.PeriodRecord storage self,
        IAgreementBook.ToleranceRule toleranceRule
    ) internal view returns (uint96 ab, uint96 ba) {
        // A→B traffic: A originates, B terminates; B→A traffic the other way round. The agreed amount
        // lies between the two figures, so it fits in uint96.
        ab = uint96(Tolerance.agreed(toleranceRule, self.amountABofA, self.amountABofB));
        ba = uint96(Tolerance.agreed(toleranceRule, self.amountBAofB, self.amountBAofA));
    }

    /// @notice The undisputed part: per direction the smaller of the two claims.
    function partialFigures(
        ISettlementLedger.PeriodRecord storage self
    ) internal view returns (uint96, uint96) {
        return (
            self.amountABofA < self.amountABofB ? self.amountABofA : self.amountABofB,
            self.amountBAofA < self.amountBAofB ? self.amountBAofA : self.amountBAofB
        );
    }

    /// @notice The revealed roots (zero for a party that did not reveal).
    function revealedRoots(
        ISettlementLedger.PeriodRecord storage self
    ) internal view returns (bytes32 rootA, bytes32 rootB) {
        rootA = self.statusA == REVEALED ? self.hashA : bytes32(0);
        rootB = self.statusB == REVEALED ? self.hashB : bytes32(0);
    }

    /// @notice What moves from A to B for figures `ab` (A owes B) and `ba` (B owes A).
    function net(uint96 ab, uint96 ba) internal pure returns (int256) {
        return int256(uint256(ab)) - int256(uint256(ba));
    }

    /// @notice keccak256(abi.encode(chainid, ledger, agreementId, period, round, party, root, amountAB,
    /// amountBA, salt)); the ledger is `address(this)`: the ledger itself, or the ledger delegate-calling a
    /// module (I-2).
    function commitment(
        bytes32 agreementId,
        uint32 period,
        uint8 round,
        bytes32 party,
        bytes32 root,
        uint256 amountAB,
        uint256 amountBA,
        bytes32 salt
    ) internal view returns (bytes32) {
        return
            keccak256(
                abi.encode(
                    block.chainid,
                    address(this),
                    agreementId,
                    period,
                    round,
                    party,
                    root,
                    amountAB,
                    amountBA,
                    salt
                )
            );
    }

    // ---------------------------------------------------------------- rounds: commit, reveal, evaluate

    /// @notice Committing → records `side`'s commitment `hash`; from Mismatched it first starts a correction
    /// round.
    function commit(
        ISettlementLedger.PeriodRecord storage self,
        Context memory c,
        uint8 side,
        bytes32 carrierId,
        bytes32 hash
    ) internal {
        expect(c, COMMIT_STATES);
        if (hash == bytes32(0)) revert ISettlementLedger.LedgerZeroHash();
        if (c.state == ISettlementLedger.PeriodState.Mismatched) {
            _startRound(self, c);
            c.state = ISettlementLedger.PeriodState.Committing;
        }
        if ((side == 0 ? self.hashA : self.hashB) != bytes32(0)) {
            revert ISettlementLedger.LedgerAlreadyCommitted(c.agreementId, c.period, carrierId);
        }
        if (side == 0) self.hashA = hash;
        else self.hashB = hash;
        emit ISettlementLedger.Committed(c.agreementId, c.period, carrierId, self.round, hash);
    }

    /// @notice The round a commitment sent now lands in: the next one from Mismatched (a correction round),
    /// else the current one. Reverts unless a commitment is allowed now.
    function commitRound(
        ISettlementLedger.PeriodRecord storage self,
        Context memory c
    ) internal view returns (uint8) {
        expect(c, COMMIT_STATES);
        return c.state == ISettlementLedger.PeriodState.Mismatched ? self.round + 1 : self.round;
    }

    /// @notice Whether `side` committed in the period's current round (a Mismatched period's hashes are the
    /// last round's roots: nobody committed in the next one yet).
    function committedNow(
        ISettlementLedger.PeriodRecord storage self,
        Context memory c,
        uint8 side
    ) internal view returns (bool) {
        if (c.state == ISettlementLedger.PeriodState.Mismatched) return false;
        return (side == 0 ? self.hashA : self.hashB) != bytes32(0);
    }

    /// @notice Revealing → opens `side`'s commitment and stores its root and figures; the second reveal
    /// evaluates the period (Matched, Reconciled or Mismatched).
    function reveal(
        ISettlementLedger.PeriodRecord storage self,
        Context memory c,
        uint8 side,
        bytes32 carrierId,
        bytes32 root,
        uint96 amountAB,
        uint96 amountBA,
        bytes32 salt
    ) internal {
        expect(c, bit(ISettlementLedger.PeriodState.Revealing));
        if (root == bytes32(0)) revert ISettlementLedger.LedgerZeroHash();
        _checkOpening(
            self,
            c,
            side,
            carrierId,
            commitment(c.agreementId, c.period, self.round, carrierId, root, amountAB, amountBA, salt)
        );
        storeClaim(self, side, root, amountAB, amountBA, REVEALED);
        emit ISettlementLedger.Revealed(
            c.agreementId,
            c.period,
            carrierId,
            self.round,
            root,
            amountAB,
            amountBA
        );
        if (self.statusA == REVEALED && self.statusB == REVEALED) _evaluate(self, c);
    }

    /// @notice Revealing → opens each carrier's commitment not opened yet ({reveal}), then derives the state
    /// again (`c.state`): Matched, Reconciled or Mismatched once both are open.
    function revealOpenings(
        ISettlementLedger.PeriodRecord storage self,
        ISettlementLedger.DisputeRecord storage dispute,
        Context memory c,
        ISettlementLedger.Opening calldata a,
        ISettlementLedger.Opening calldata b
    ) internal {
        if (self.statusA == 0) reveal(self, c, 0, c.terms.carrierA, a.root, a.amountAB, a.amountBA, a.salt);
        if (self.statusB == 0) reveal(self, c, 1, c.terms.carrierB, b.root, b.amountAB, b.amountBA, b.salt);
        c.state = state(self, dispute, c.period, c.terms.windows);
    }

    /// @dev Reverts unless `side` committed, has not revealed yet and its opening hashes to `computed`.
    function _checkOpening(
        ISettlementLedger.PeriodRecord storage self,
        Context memory c,
        uint8 side,
        bytes32 carrierId,
        bytes32 computed
    ) private view {
        bytes32 committed = side == 0 ? self.hashA : self.hashB;
        if (committed == bytes32(0)) {
            revert ISettlementLedger.LedgerNotCommitted(c.agreementId, c.period, carrierId);
        }
        if ((side == 0 ? self.statusA : self.statusB) != 0) {
            revert ISettlementLedger.LedgerAlreadyRevealed(c.agreementId, c.period, carrierId);
        }
        if (computed != committed) {
            revert ISettlementLedger.LedgerCommitmentMismatch(c.agreementId, c.period, committed, computed);
        }
    }

    /// @notice Replaces `side`'s commitment with its opened root (zero for a claim without commitment) and
    /// stores its figures with `status` (REVEALED or CLAIMED).
    function storeClaim(
        ISettlementLedger.PeriodRecord storage self,
        uint8 side,
        bytes32 root,
        uint96 amountAB,
        uint96 amountBA,
        uint8 status
    ) internal {
        if (side == 0) {
            (self.hashA, self.amountABofA, self.amountBAofA, self.statusA) = (
                root,
                amountAB,
                amountBA,
                status
            );
        } else {
            (self.hashB, self.amountABofB, self.amountBAofB, self.statusB) = (
                root,
                amountAB,
                amountBA,
                status
            );
        }
    }

    /// @dev Mismatched → the next round, within the reconcile window and the round limit: commitments,
    /// reveals and the outcome start over; the claims of the round before stay on record until a reveal of
    /// the new round replaces them, so a round nobody reveals falls back to Mismatched at those figures
    /// (L-2). The reconcile window still counts from the last evaluation.
    function _startRound(ISettlementLedger.PeriodRecord storage self, Context memory c) private {
        uint256 deadline = self.evaluatedAt + uint256(c.terms.windows.reconcile);
        if (block.timestamp > deadline) {
            revert ISettlementLedger.LedgerDeadlinePassed(c.agreementId, c.period, deadline);
        }
        uint8 round = self.round + 1;
        if (round >= MAX_ROUNDS)
            revert ISettlementLedger.LedgerRoundLimit(c.agreementId, c.period, MAX_ROUNDS);
        (self.hashA, self.hashB) = (bytes32(0), bytes32(0));
        (self.statusA, self.statusB, self.outcome) = (0, 0, ISettlementLedger.Outcome.None);
        (self.round, self.roundStart) = (round, uint40(block.timestamp));
    }

    /// @dev Stores the outcome of both reveals and reports it with the final figures (zero when Mismatched).
    function _evaluate(ISettlementLedger.PeriodRecord storage self, Context memory c) private {
        ISettlementLedger.Outcome outcome = ISettlementLedger.Outcome.Mismatched;
        uint96 ab;
        uint96 ba;
        if (
            self.hashA == self.hashB &&
            self.amountABofA == self.amountABofB &&
            self.amountBAofA == self.amountBAofB
        ) {
            (outcome, ab, ba) = (ISettlementLedger.Outcome.Matched, self.amountABofA, self.amountBAofA);
        } else if (
            Tolerance.within(
                self.amountABofA,
                self.amountABofB,
                c.terms.toleranceBps,
                c.terms.toleranceAbs
            ) &&
            Tolerance.within(self.amountBAofA, self.amountBAofB, c.terms.toleranceBps, c.terms.toleranceAbs)
        ) {
            outcome = ISettlementLedger.Outcome.Reconciled;
            (ab, ba) = reconciledFigures(self, c.terms.rule);
        }
        (self.outcome, self.evaluatedAt) = (outcome, uint40(block.timestamp));
        emit ISettlementLedger.Evaluated(c.agreementId, c.period, self.round, outcome, ab, ba);
    }

    // ---------------------------------------------------------------- approvals and settlement

    /// @notice The flag `side` sets when it reaches its threshold (on the partial or the final figures).
    function approvalFlag(uint8 side, bool partialSettlement) internal pure returns (uint8) {
        if (partialSettlement) return side == 0 ? PARTIAL_APPROVED_A : PARTIAL_APPROVED_B;
        return side == 0 ? APPROVED_A : APPROVED_B;
    }

    /// @notice Whether `side` already reached its threshold (on the partial or the final figures).
    function isApproved(
        ISettlementLedger.PeriodRecord storage self,
        uint8 side,
        bool partialSettlement
    ) internal view returns (bool) {
        return self.flags & approvalFlag(side, partialSettlement) != 0;
    }

    /// @notice Records that `side` reached its threshold; once both did on the final figures the period is
    /// Approved (see {approvedByBoth}).
    function markApproved(
        ISettlementLedger.PeriodRecord storage self,
        uint8 side,
        bool partialSettlement
    ) internal {
        self.flags |= approvalFlag(side, partialSettlement);
    }

    /// @notice Whether either carrier approved the period (full or partial figures): a period can hold a
    /// reservation only then, since a reservation is made with its payer's approval and a release clears both.
    function anyApproval(ISettlementLedger.PeriodRecord storage self) internal view returns (bool) {
        return self.flags & (APPROVED_A | APPROVED_B | PARTIAL_APPROVED_A | PARTIAL_APPROVED_B) != 0;
    }

    /// @notice Whether any approval tally below its threshold was stored for the period ({TALLIED}).
    function hasTally(ISettlementLedger.PeriodRecord storage self) internal view returns (bool) {
        return self.flags & TALLIED != 0;
    }

    /// @notice Records that an approval tally below its threshold is stored for the period.
    function markTallied(ISettlementLedger.PeriodRecord storage self) internal {
        self.flags |= TALLIED;
    }

    /// @notice Withdraws `side`'s approval (on the partial or the final figures): its reservation was
    /// released, and a period is never approved by its payer without one.
    function clearApproval(
        ISettlementLedger.PeriodRecord storage self,
        uint8 side,
        bool partialSettlement
    ) internal {
        self.flags &= ~approvalFlag(side, partialSettlement);
    }

    /// @notice The figures a settlement (of the undisputed part if `partialSettlement`) settles and what it
    /// moves from A to B: the final settlement moves only what an earlier partial settlement did not. The
    /// final figures are only meaningful when the base state is one of {FINAL_STATES}.
    function toSettle(
        ISettlementLedger.PeriodRecord storage self,
        ISettlementLedger.DisputeRecord storage dispute,
        Context memory c,
        bool partialSettlement
    ) internal view returns (uint96 ab, uint96 ba, int256 netAB) {
        if (partialSettlement) {
            (ab, ba) = partialFigures(self);
            return (ab, ba, net(ab, ba));
        }
        (ab, ba) = finalFigures(self, dispute, c);
        netAB = net(ab, ba);
        if (self.flags & PARTIAL_SETTLED != 0) {
            (uint96 partialAB, uint96 partialBA) = partialFigures(self);
            netAB -= net(partialAB, partialBA);
        }
    }

    /// @notice Whether `settle` would settle the period now: Approved, or a binding outcome past its
    /// {approvalDeadline}.
    function settleable(
        ISettlementLedger.PeriodRecord storage self,
        ISettlementLedger.DisputeRecord storage dispute,
        Context memory c
    ) internal view returns (bool) {
        if (c.state == ISettlementLedger.PeriodState.Approved) return true;
        return bit(c.state) & BINDING_STATES != 0 && block.timestamp > approvalDeadline(self, dispute, c);
    }

    /// @notice Approved → Settled, or a binding outcome past its {approvalDeadline} → Settled without
    /// approvals ("silence is consent" carried through to settlement): returns what moves from A to B, net of
    /// an earlier partial settlement.
    function settle(
        ISettlementLedger.PeriodRecord storage self,
        ISettlementLedger.DisputeRecord storage dispute,
        Context memory c
    ) internal returns (int256 netAB) {
        expect(c, bit(ISettlementLedger.PeriodState.Approved) | BINDING_STATES);
        if (c.state != ISettlementLedger.PeriodState.Approved) {
            uint256 deadline = approvalDeadline(self, dispute, c);
            if (block.timestamp <= deadline) {
                revert ISettlementLedger.LedgerTooEarly(c.agreementId, c.period, deadline + 1);
            }
        }
        uint96 ab;
        uint96 ba;
        (ab, ba, netAB) = toSettle(self, dispute, c, false);
        self.flags |= SETTLED;
        emit ISettlementLedger.Settled(c.agreementId, c.period, c.terms.token, false, ab, ba, netAB);
    }

    /// @notice Disputed or Escalated, both partial approvals given → the undisputed part settled (once).
    /// Returns what moves from A to B.
    function settlePartial(
        ISettlementLedger.PeriodRecord storage self,
        Context memory c
    ) internal returns (int256 netAB) {
        expect(c, DISPUTE_STATES);
        uint8 flags = self.flags;
        if (
            flags & (PARTIAL_APPROVED_A | PARTIAL_APPROVED_B | PARTIAL_SETTLED) !=
            PARTIAL_APPROVED_A | PARTIAL_APPROVED_B
        ) {
            revert ISettlementLedger.LedgerPartialNotReady(c.agreementId, c.period);
        }
        self.flags = flags | PARTIAL_SETTLED;
        (uint96 ab, uint96 ba) = partialFigures(self);
        netAB = net(ab, ba);
        emit ISettlementLedger.Settled(c.agreementId, c.period, c.terms.token, true, ab, ba, netAB);
    }

    // ---------------------------------------------------------------- the co-signed fast path

    /// @notice Committing or Revealing of round 0 with no reveal yet → Settled at `amountAB`, `amountBA`, the
    /// figures both carriers' officers signed (the caller checked the signatures and reports them, with the root,
    /// in `FastPathSettled`). One slot of the record changes: the outcome Matched, `evaluatedAt` now, both approval
    /// flags and SETTLED, so the period reads Matched, then Settled, and nothing commits, reveals, approves or
    /// settles it again. Nothing else is written (the fast path's gas): `statusA`/`statusB` stay 0, which tells a
    /// fast-path period from a revealed Matched one, its claims stay zero (no figure of a Settled period is read
    /// again on chain), and commitments made meanwhile stay as they were. Returns what moves from A to B.
    /// @dev Only round 0: a correction round follows an outcome (Mismatched), which the fast path never replaces.
    /// After a reveal the commit–reveal round runs to its end: its opening is public and the second party
    /// must either match it or be measured against it.
    function settleFastPath(
        ISettlementLedger.PeriodRecord storage self,
        Context memory c,
        uint96 amountAB,
        uint96 amountBA
    ) internal returns (int256 netAB) {
        expect(
            c,
            bit(ISettlementLedger.PeriodState.Committing) | bit(ISettlementLedger.PeriodState.Revealing)
        );
        uint8 round = self.round;
        if (round != 0) revert ISettlementLedger.LedgerNotFirstRound(c.agreementId, c.period, round);
        if (self.statusA != 0)
            revert ISettlementLedger.LedgerAlreadyRevealed(c.agreementId, c.period, c.terms.carrierA);
        if (self.statusB != 0)
            revert ISettlementLedger.LedgerAlreadyRevealed(c.agreementId, c.period, c.terms.carrierB);
        (self.evaluatedAt, self.outcome, self.flags) = (
            uint40(block.timestamp),
            ISettlementLedger.Outcome.Matched,
            APPROVED_A | APPROVED_B | SETTLED
        );
        return net(amountAB, amountBA);
    }

    /// @notice {load} for a step that needs no more of the terms than the parties, the token and the windows
    /// ({ISettlementLedger-commitBoth} and the fast path): reads them with the book's compact
    /// {IAgreementBook-settlementTermsAt}, two storage slots fewer than {IAgreementBook-termsAt}; the other
    /// fields of `c.terms` stay zero.
    function loadSettlementTerms(
        LedgerStorage.Layout storage s,
        IAgreementBook book,
        bytes32 agreementId,
        uint32 period
    ) internal view returns (Context memory c, ISettlementLedger.PeriodRecord storage self) {
        PeriodMath.requireValid(period);
        IAgreementBook.SettlementTerms memory t = book.settlementTermsAt(agreementId, period);
        (c.terms.carrierA, c.terms.carrierB, c.terms.token, c.terms.windows) = (
            t.carrierA,
            t.carrierB,
            t.token,
            t.windows
        );
        (c.agreementId, c.period) = (agreementId, period);
        self = s.periods[agreementId][period];
        c.state = state(self, s.disputes[agreementId][period], period, t.windows);
    }
}
