// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {ISettlementLedger} from "./interfaces/ISettlementLedger.sol";
import {ICarrierRegistry} from "./interfaces/ICarrierRegistry.sol";
import {IAgreementBook} from "./interfaces/IAgreementBook.sol";
import {PeriodMath} from "./libraries/PeriodMath.sol";
import {Tolerance} from "./libraries/Tolerance.sol";
import {Netting} from "./libraries/Netting.sol";
import {Bits} from "./libraries/Bits.sol";

/// @title SettlementLedger
/// @notice Periods, disputes, approvals, escrow and settlement of interconnect agreements.
/// @dev Not upgradeable by design: a new version is a new deployment (see docs/CONTRACTS.md).
contract SettlementLedger is ISettlementLedger, EIP712, ReentrancyGuard {
    using SafeERC20 for IERC20;

    /// @notice Rounds per period: the first one plus corrections.
    uint8 public constant MAX_ROUNDS = 3;

    /// @notice Proposals per dispute, both sides together. Each one restarts the response window, so
    /// without a cap one side could re-propose just ahead of the other's escalation forever (M-1); with it,
    /// escalation is possible at the latest (MAX_PROPOSALS + 1) × the response window after the opening.
    uint8 public constant MAX_PROPOSALS = 4;

    bytes32 private constant _APPROVAL_TYPEHASH = keccak256(
        "Approval(bytes32 agreementId,uint32 period,bytes32 carrierId,uint8 round,bool partialSettlement,"
        "uint96 amountAB,uint96 amountBA,bytes32 rootA,bytes32 rootB,uint64 deadline)"
    );

    uint8 private constant _APPROVED_A = 1;
    uint8 private constant _APPROVED_B = 2;
    uint8 private constant _PARTIAL_APPROVED_A = 4;
    uint8 private constant _PARTIAL_APPROVED_B = 8;
    uint8 private constant _PARTIAL_SETTLED = 16;
    uint8 private constant _SETTLED = 32;
    uint8 private constant _DISPUTED = 64;
    uint8 private constant _REVEALED = 1;
    uint8 private constant _CLAIMED = 2;

    uint256 private constant _FINAL_STATES =
        (1 << uint8(PeriodState.Matched)) |
            (1 << uint8(PeriodState.Reconciled)) |
            (1 << uint8(PeriodState.Uncontested)) |
            (1 << uint8(PeriodState.Resolved));
    uint256 private constant _DISPUTE_STATES =
        (1 << uint8(PeriodState.Disputed)) | (1 << uint8(PeriodState.Escalated));

    /// @dev Everything a step needs about its period, loaded once.
    struct Ctx {
        bytes32 agreementId;
        uint32 period;
        PeriodState state;
        IAgreementBook.Terms t;
    }

    ICarrierRegistry private immutable _registry;
    IAgreementBook private immutable _book;

    mapping(bytes32 agreementId => mapping(uint32 period => PeriodRecord)) private _periods;
    mapping(bytes32 agreementId => mapping(uint32 period => DisputeRecord)) private _disputes;
    /// @dev Officer-slot bitmaps of approvals below threshold; index = side * 2 + (partial ? 1 : 0).
    mapping(bytes32 agreementId => mapping(uint32 period => mapping(uint256 index => uint256)))
        private _tallies;
    mapping(bytes32 carrierId => mapping(address token => uint256)) private _escrow;

    constructor(ICarrierRegistry registry, IAgreementBook book) EIP712("InterconnectLedger", "1") {
        _registry = registry;
        _book = book;
    }

    // ---------------------------------------------------------------- commit / reveal

    /// @inheritdoc ISettlementLedger
    function commit(bytes32 agreementId, uint32 period, bytes32 commitment) external {
        if (commitment == bytes32(0)) revert LedgerZeroHash();
        Ctx memory c = _context(agreementId, period);
        (bytes32 carrierId, uint8 side) = _nodeSide(c);
        _expect(c, _bit(PeriodState.Committing) | _bit(PeriodState.Mismatched));
        PeriodRecord storage p = _periods[agreementId][period];
        if (c.state == PeriodState.Mismatched) _startRound(c, p);
        if ((side == 0 ? p.hashA : p.hashB) != bytes32(0)) {
            revert LedgerAlreadyCommitted(agreementId, period, carrierId);
        }
        if (side == 0) p.hashA = commitment;
        else p.hashB = commitment;
        emit Committed(agreementId, period, carrierId, p.round, commitment);
    }

    /// @inheritdoc ISettlementLedger
    function reveal(
        bytes32 agreementId,
        uint32 period,
        bytes32 root,
        uint96 amountAB,
        uint96 amountBA,
        bytes32 salt
    ) external {
        if (root == bytes32(0)) revert LedgerZeroHash();
        Ctx memory c = _context(agreementId, period);
        (bytes32 carrierId, uint8 side) = _nodeSide(c);
        _expect(c, _bit(PeriodState.Revealing));
        PeriodRecord storage p = _periods[agreementId][period];
        bytes32 committed = side == 0 ? p.hashA : p.hashB;
        if (committed == bytes32(0)) revert LedgerNotCommitted(agreementId, period, carrierId);
        if ((side == 0 ? p.statusA : p.statusB) != 0)
            revert LedgerAlreadyRevealed(agreementId, period, carrierId);
        bytes32 computed = _commitment(agreementId, period, carrierId, root, amountAB, amountBA, salt);
        if (computed != committed) revert LedgerCommitmentMismatch(agreementId, period, committed, computed);
        if (side == 0) {
            (p.hashA, p.amountABofA, p.amountBAofA, p.statusA) = (root, amountAB, amountBA, _REVEALED);
        } else {
            (p.hashB, p.amountABofB, p.amountBAofB, p.statusB) = (root, amountAB, amountBA, _REVEALED);
        }
        emit Revealed(agreementId, period, carrierId, p.round, root, amountAB, amountBA);
        if (p.statusA == _REVEALED && p.statusB == _REVEALED) _evaluate(c, p);
    }

    // ---------------------------------------------------------------- disputes

    /// @inheritdoc ISettlementLedger
    function openDispute(
        bytes32 agreementId,
        uint32 period,
        bytes32 carrierId,
        uint16 reasonCode,
        string calldata evidenceCid
    ) external {
        Ctx memory c = _context(agreementId, period);
        uint8 side = _officerSide(c, carrierId);
        _expect(c, _bit(PeriodState.Mismatched));
        _open(c, side);
        emit DisputeOpened(agreementId, period, carrierId, reasonCode, evidenceCid);
    }

    /// @inheritdoc ISettlementLedger
    function contestDefault(
        bytes32 agreementId,
        uint32 period,
        bytes32 carrierId,
        uint96 amountAB,
        uint96 amountBA,
        uint16 reasonCode,
        string calldata evidenceCid
    ) external {
        Ctx memory c = _context(agreementId, period);
        uint8 side = _officerSide(c, carrierId);
        _expect(c, _bit(PeriodState.Defaulted));
        PeriodRecord storage p = _periods[agreementId][period];
        if (side == 0) {
            if (p.statusA != 0) revert LedgerWrongParty(agreementId, period, carrierId);
            (p.amountABofA, p.amountBAofA, p.statusA) = (amountAB, amountBA, _CLAIMED);
        } else {
            if (p.statusB != 0) revert LedgerWrongParty(agreementId, period, carrierId);
            (p.amountABofB, p.amountBAofB, p.statusB) = (amountAB, amountBA, _CLAIMED);
        }
        _open(c, side);
        emit DefaultContested(agreementId, period, carrierId, amountAB, amountBA, reasonCode, evidenceCid);
    }

    /// @inheritdoc ISettlementLedger
    function proposeFigures(
        bytes32 agreementId,
        uint32 period,
        bytes32 carrierId,
        uint96 amountAB,
        uint96 amountBA,
        string calldata evidenceCid
    ) external {
        Ctx memory c = _context(agreementId, period);
        uint8 side = _officerSide(c, carrierId);
        _expect(c, _bit(PeriodState.Disputed));
        DisputeRecord storage d = _disputes[agreementId][period];
        if (d.proposals >= MAX_PROPOSALS) revert LedgerProposalLimit(agreementId, period, MAX_PROPOSALS);
        ++d.proposals;
        (d.proposer, d.proposedAB, d.proposedBA, d.lastActionAt) = (
            side + 1,
            amountAB,
            amountBA,
            uint40(block.timestamp)
        );
        emit FiguresProposed(agreementId, period, carrierId, amountAB, amountBA, evidenceCid);
    }

    /// @inheritdoc ISettlementLedger
    function acceptFigures(
        bytes32 agreementId,
        uint32 period,
        bytes32 carrierId,
        uint96 amountAB,
        uint96 amountBA
    ) external {
        Ctx memory c = _context(agreementId, period);
        uint8 side = _officerSide(c, carrierId);
        _expect(c, _bit(PeriodState.Disputed));
        DisputeRecord storage d = _disputes[agreementId][period];
        if (d.proposer == 0) revert LedgerNoProposal(agreementId, period);
        if (d.proposer == side + 1) revert LedgerWrongParty(agreementId, period, carrierId);
        if (d.proposedAB != amountAB || d.proposedBA != amountBA) {
            revert LedgerProposalChanged(agreementId, period, d.proposedAB, d.proposedBA);
        }
        uint256 deadline = d.lastActionAt + uint256(c.t.windows.response);
        if (block.timestamp > deadline) revert LedgerDeadlinePassed(agreementId, period, deadline);
        _resolve(d, Resolution.Accepted, d.proposedAB, d.proposedBA);
        emit FiguresAccepted(agreementId, period, carrierId, d.proposedAB, d.proposedBA);
    }

    /// @inheritdoc ISettlementLedger
    function escalate(bytes32 agreementId, uint32 period, bytes32 carrierId) external {
        Ctx memory c = _context(agreementId, period);
        _officerSide(c, carrierId);
        _expect(c, _bit(PeriodState.Disputed));
        DisputeRecord storage d = _disputes[agreementId][period];
        uint256 notBefore = d.lastActionAt + uint256(c.t.windows.response) + 1;
        if (block.timestamp < notBefore) revert LedgerTooEarly(agreementId, period, notBefore);
        d.escalatedAt = uint40(block.timestamp);
        emit DisputeEscalated(agreementId, period, carrierId, block.timestamp + c.t.windows.arbitration);
    }

    /// @inheritdoc ISettlementLedger
    function rule(
        bytes32 agreementId,
        uint32 period,
        uint96 amountAB,
        uint96 amountBA,
        string calldata rationaleCid
    ) external {
        Ctx memory c = _context(agreementId, period);
        if (msg.sender != c.t.arbiter || !_registry.canArbitrate(msg.sender)) {
            revert LedgerNotArbiter(agreementId, msg.sender);
        }
        _expect(c, _bit(PeriodState.Escalated));
        PeriodRecord storage p = _periods[agreementId][period];
        _checkRange(c, amountAB, p.amountABofA, p.amountABofB);
        _checkRange(c, amountBA, p.amountBAofA, p.amountBAofB);
        _resolve(_disputes[agreementId][period], Resolution.Ruled, amountAB, amountBA);
        emit DisputeRuled(agreementId, period, msg.sender, amountAB, amountBA, rationaleCid);
    }

    /// @inheritdoc ISettlementLedger
    function withdrawDispute(bytes32 agreementId, uint32 period, bytes32 carrierId) external {
        Ctx memory c = _context(agreementId, period);
        uint8 side = _officerSide(c, carrierId);
        _expect(c, _bit(PeriodState.Disputed));
        DisputeRecord storage d = _disputes[agreementId][period];
        if (d.opener != side + 1) revert LedgerWrongParty(agreementId, period, carrierId);
        PeriodRecord storage p = _periods[agreementId][period];
        (uint96 ab, uint96 ba) = side == 0 ? (p.amountABofB, p.amountBAofB) : (p.amountABofA, p.amountBAofA);
        _resolve(d, Resolution.Withdrawn, ab, ba);
        emit DisputeWithdrawn(agreementId, period, carrierId, ab, ba);
    }

    // ---------------------------------------------------------------- approvals

    /// @inheritdoc ISettlementLedger
    function approve(Approval calldata approval) external {
        if (!_registry.isOfficer(approval.carrierId, msg.sender)) {
            revert LedgerNotOfficer(approval.carrierId, msg.sender);
        }
        address[] memory signers = new address[](1);
        signers[0] = msg.sender;
        _approve(approval, signers);
    }

    /// @inheritdoc ISettlementLedger
    function approveWithSignatures(Approval calldata approval, bytes[] calldata signatures) external {
        _approve(approval, _recover(approval, signatures));
    }

    /// @inheritdoc ISettlementLedger
    function approveAndSettle(
        Approval calldata approval,
        bytes[] calldata signaturesA,
        bytes[] calldata signaturesB
    ) external {
        Approval memory a = approval;
        Ctx memory c = _context(a.agreementId, a.period);
        uint8 side = _side(c, a.carrierId);
        _checkApproval(c, a);
        // A side whose signatures reached the chain first (approveWithSignatures) is already approved:
        // recording it again would revert, and anyone could make this call fail that way (L-3).
        _recordUnlessApproved(c, a, side, signaturesA);
        (a.carrierId, side) = side == 0 ? (c.t.carrierB, 1) : (c.t.carrierA, 0);
        _recordUnlessApproved(c, a, side, signaturesB);
        uint8 both = _APPROVED_A | _APPROVED_B;
        if (_periods[a.agreementId][a.period].flags & both == both) c.state = PeriodState.Approved;
        int256 net = _markSettled(c);
        _applyDelta(c.t.carrierA, c.t.token, -net);
        _applyDelta(c.t.carrierB, c.t.token, net);
    }

    // ---------------------------------------------------------------- settlement

    /// @inheritdoc ISettlementLedger
    function settle(bytes32 agreementId, uint32 period) external {
        _settleOne(agreementId, period);
    }

    /// @inheritdoc ISettlementLedger
    function settlePartial(bytes32 agreementId, uint32 period) external {
        Ctx memory c = _context(agreementId, period);
        _expect(c, _DISPUTE_STATES);
        PeriodRecord storage p = _periods[agreementId][period];
        uint8 flags = p.flags;
        if (
            flags & (_PARTIAL_APPROVED_A | _PARTIAL_APPROVED_B | _PARTIAL_SETTLED) !=
            _PARTIAL_APPROVED_A | _PARTIAL_APPROVED_B
        ) {
            revert LedgerPartialNotReady(agreementId, period);
        }
        p.flags = flags | _PARTIAL_SETTLED;
        (uint96 ab, uint96 ba) = _partialFigures(p);
        int256 net = _net(ab, ba);
        emit Settled(agreementId, period, c.t.token, true, ab, ba, net);
        _applyDelta(c.t.carrierA, c.t.token, -net);
        _applyDelta(c.t.carrierB, c.t.token, net);
    }

    /// @inheritdoc ISettlementLedger
    function settleBatch(address token, PeriodKey[] calldata keys) external {
        Netting.Position[] memory positions = new Netting.Position[](keys.length * 2);
        uint256 count;
        for (uint256 i = 0; i < keys.length; ++i) {
            Ctx memory c = _context(keys[i].agreementId, keys[i].period);
            if (c.t.token != token) revert LedgerTokenMismatch(c.agreementId, c.period, token, c.t.token);
            int256 net = _markSettled(c);
            count = Netting.add(positions, count, c.t.carrierA, -net);
            count = Netting.add(positions, count, c.t.carrierB, net);
        }
        for (uint256 i = 0; i < count; ++i) _applyDelta(positions[i].carrierId, token, positions[i].delta);
    }

    // ---------------------------------------------------------------- escrow

    /// @inheritdoc ISettlementLedger
    function deposit(bytes32 carrierId, address token, uint256 amount) external nonReentrant {
        _deposit(carrierId, token, amount);
    }

    /// @inheritdoc ISettlementLedger
    function depositWithPermit(
        bytes32 carrierId,
        address token,
        uint256 amount,
        uint256 deadline,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external nonReentrant {
        // A front-run permit makes this call fail but leaves the allowance in place: carry on and let
        // transferFrom decide (OpenZeppelin's recommended pattern).
        // solhint-disable-next-line no-empty-blocks
        try IERC20Permit(token).permit(msg.sender, address(this), amount, deadline, v, r, s) {} catch {}
        _deposit(carrierId, token, amount);
    }

    /// @inheritdoc ISettlementLedger
    function withdraw(bytes32 carrierId, address token, uint256 amount) external nonReentrant {
        if (!_registry.isOfficer(carrierId, msg.sender)) revert LedgerNotOfficer(carrierId, msg.sender);
        if (amount == 0) revert LedgerZeroAmount();
        uint256 available = _escrow[carrierId][token];
        if (available < amount) revert LedgerInsufficientEscrow(carrierId, token, amount, available);
        // unchecked: amount <= available was checked just above.
        unchecked {
            _escrow[carrierId][token] = available - amount;
        }
        address treasury = _registry.treasuryOf(carrierId);
        emit Withdrawn(carrierId, token, treasury, amount);
        IERC20(token).safeTransfer(treasury, amount);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc ISettlementLedger
    function state(bytes32 agreementId, uint32 period) external view returns (PeriodState) {
        return _context(agreementId, period).state;
    }

    /// @inheritdoc ISettlementLedger
    function periodRecord(bytes32 agreementId, uint32 period) external view returns (PeriodRecord memory) {
        return _periods[agreementId][period];
    }

    /// @inheritdoc ISettlementLedger
    function disputeRecord(bytes32 agreementId, uint32 period) external view returns (DisputeRecord memory) {
        return _disputes[agreementId][period];
    }

    /// @inheritdoc ISettlementLedger
    function deadlines(bytes32 agreementId, uint32 period) external view returns (Deadlines memory dl) {
        Ctx memory c = _context(agreementId, period);
        IAgreementBook.Windows memory w = c.t.windows;
        PeriodRecord storage p = _periods[agreementId][period];
        DisputeRecord storage d = _disputes[agreementId][period];
        dl.roundStart = _roundStart(p, period);
        dl.commitDeadline = dl.roundStart + w.commit;
        dl.revealDeadline = dl.commitDeadline + w.reveal;
        dl.defaultDisputeDeadline = dl.revealDeadline + w.dispute;
        if (p.evaluatedAt != 0) dl.reconcileDeadline = p.evaluatedAt + uint256(w.reconcile);
        if (d.openedAt != 0) dl.responseDeadline = d.lastActionAt + uint256(w.response);
        if (d.escalatedAt != 0) dl.arbitrationDeadline = d.escalatedAt + uint256(w.arbitration);
    }

    /// @inheritdoc ISettlementLedger
    function approvalFigures(
        bytes32 agreementId,
        uint32 period,
        bool partialSettlement
    ) external view returns (uint96 amountAB, uint96 amountBA, bytes32 rootA, bytes32 rootB, uint8 round) {
        Ctx memory c = _context(agreementId, period);
        _expect(c, partialSettlement ? _DISPUTE_STATES : _FINAL_STATES);
        return _approvalFigures(c, partialSettlement);
    }

    /// @inheritdoc ISettlementLedger
    function approvalsOf(
        bytes32 agreementId,
        uint32 period,
        bytes32 carrierId,
        bool partialSettlement
    ) external view returns (uint256 count, uint256 threshold, bool approved) {
        Ctx memory c = _context(agreementId, period);
        uint8 side = _side(c, carrierId);
        (, uint256 activeMask, uint8 t) = _registry.officerSlots(carrierId, new address[](0));
        approved = _periods[agreementId][period].flags & _approvalFlag(side, partialSettlement) != 0;
        uint256 bits = _tallies[agreementId][period][_tallyIndex(side, partialSettlement)];
        return (approved ? t : Bits.popcount(bits & activeMask), t, approved);
    }

    /// @inheritdoc ISettlementLedger
    function escrowOf(bytes32 carrierId, address token) external view returns (uint256) {
        return _escrow[carrierId][token];
    }

    /// @inheritdoc ISettlementLedger
    function approvalDigest(Approval calldata approval) external view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(_APPROVAL_TYPEHASH, approval)));
    }

    /// @inheritdoc ISettlementLedger
    function computeCommitment(
        bytes32 agreementId,
        uint32 period,
        bytes32 party,
        bytes32 root,
        uint256 amountAB,
        uint256 amountBA,
        bytes32 salt
    ) external pure returns (bytes32) {
        return _commitment(agreementId, period, party, root, amountAB, amountBA, salt);
    }

    // ---------------------------------------------------------------- internals: state

    function _context(bytes32 agreementId, uint32 period) private view returns (Ctx memory c) {
        PeriodMath.requireValid(period);
        (c.t, ) = _book.termsAt(agreementId, period);
        c.agreementId = agreementId;
        c.period = period;
        PeriodRecord storage p = _periods[agreementId][period];
        uint8 flags = p.flags;
        if (flags & _SETTLED != 0) c.state = PeriodState.Settled;
        else if (flags & (_APPROVED_A | _APPROVED_B) == _APPROVED_A | _APPROVED_B)
            c.state = PeriodState.Approved;
        else c.state = _baseState(c, p);
    }

    /// @dev The state from the period's facts, ignoring approval and settlement flags.
    function _baseState(Ctx memory c, PeriodRecord storage p) private view returns (PeriodState) {
        if (p.flags & _DISPUTED != 0) {
            DisputeRecord storage d = _disputes[c.agreementId][c.period];
            if (d.resolution != Resolution.None) return PeriodState.Resolved;
            if (d.escalatedAt == 0) return PeriodState.Disputed;
            return
                block.timestamp > d.escalatedAt + uint256(c.t.windows.arbitration)
                    ? PeriodState.Resolved
                    : PeriodState.Escalated;
        }
        Outcome outcome = p.outcome;
        if (outcome == Outcome.Matched) return PeriodState.Matched;
        if (outcome == Outcome.Reconciled) return PeriodState.Reconciled;
        if (outcome == Outcome.Mismatched) return PeriodState.Mismatched;
        uint256 start = _roundStart(p, c.period);
        if (block.timestamp < start) return PeriodState.Pending;
        uint256 deadline = start + c.t.windows.commit;
        bool committedA = p.hashA != bytes32(0);
        bool committedB = p.hashB != bytes32(0);
        if (block.timestamp <= deadline && !(committedA && committedB)) return PeriodState.Committing;
        if (!committedA && !committedB) return PeriodState.Void;
        deadline += c.t.windows.reveal;
        if (block.timestamp <= deadline) return PeriodState.Revealing;
        if (p.statusA == 0 && p.statusB == 0) return PeriodState.Void;
        return
            block.timestamp <= deadline + c.t.windows.dispute
                ? PeriodState.Defaulted
                : PeriodState.Uncontested;
    }

    /// @dev The single transition check: reverts unless the current state is in `allowed` (a bitmap).
    function _expect(Ctx memory c, uint256 allowed) private pure {
        if (_bit(c.state) & allowed == 0) {
            revert LedgerUnexpectedState(c.agreementId, c.period, c.state, bytes32(allowed));
        }
    }

    function _bit(PeriodState s) private pure returns (uint256) {
        return uint256(1) << uint8(s);
    }

    function _roundStart(PeriodRecord storage p, uint32 period) private view returns (uint256) {
        return p.round == 0 ? PeriodMath.end(period) : p.roundStart;
    }

    function _startRound(Ctx memory c, PeriodRecord storage p) private {
        uint256 deadline = p.evaluatedAt + uint256(c.t.windows.reconcile);
        if (block.timestamp > deadline) revert LedgerDeadlinePassed(c.agreementId, c.period, deadline);
        uint8 round = p.round + 1;
        if (round >= MAX_ROUNDS) revert LedgerRoundLimit(c.agreementId, c.period, MAX_ROUNDS);
        delete _periods[c.agreementId][c.period];
        (p.round, p.roundStart) = (round, uint40(block.timestamp));
    }

    function _evaluate(Ctx memory c, PeriodRecord storage p) private {
        Outcome outcome = Outcome.Mismatched;
        uint96 ab;
        uint96 ba;
        if (p.hashA == p.hashB && p.amountABofA == p.amountABofB && p.amountBAofA == p.amountBAofB) {
            (outcome, ab, ba) = (Outcome.Matched, p.amountABofA, p.amountBAofA);
        } else if (
            Tolerance.within(p.amountABofA, p.amountABofB, c.t.toleranceBps, c.t.toleranceAbs) &&
            Tolerance.within(p.amountBAofA, p.amountBAofB, c.t.toleranceBps, c.t.toleranceAbs)
        ) {
            outcome = Outcome.Reconciled;
            (ab, ba) = _reconciled(c, p);
        }
        (p.outcome, p.evaluatedAt) = (outcome, uint40(block.timestamp));
        emit Evaluated(c.agreementId, c.period, p.round, outcome, ab, ba);
    }

    function _reconciled(Ctx memory c, PeriodRecord storage p) private view returns (uint96 ab, uint96 ba) {
        // A→B traffic: A originates, B terminates; B→A traffic the other way round. The agreed amount
        // lies between the two figures, so it fits in uint96.
        ab = uint96(Tolerance.agreed(c.t.rule, p.amountABofA, p.amountABofB));
        ba = uint96(Tolerance.agreed(c.t.rule, p.amountBAofB, p.amountBAofA));
    }

    // ---------------------------------------------------------------- internals: parties and disputes

    function _nodeSide(Ctx memory c) private view returns (bytes32 carrierId, uint8 side) {
        carrierId = _registry.carrierOfNode(msg.sender);
        if (carrierId == bytes32(0) || (carrierId != c.t.carrierA && carrierId != c.t.carrierB)) {
            revert LedgerNotPartyNode(c.agreementId, msg.sender);
        }
        side = carrierId == c.t.carrierA ? 0 : 1;
    }

    function _side(Ctx memory c, bytes32 carrierId) private pure returns (uint8) {
        if (carrierId == c.t.carrierA) return 0;
        if (carrierId == c.t.carrierB) return 1;
        revert LedgerNotParty(c.agreementId, carrierId);
    }

    function _officerSide(Ctx memory c, bytes32 carrierId) private view returns (uint8 side) {
        side = _side(c, carrierId);
        if (!_registry.isOfficer(carrierId, msg.sender)) revert LedgerNotOfficer(carrierId, msg.sender);
    }

    function _open(Ctx memory c, uint8 side) private {
        _periods[c.agreementId][c.period].flags |= _DISPUTED;
        DisputeRecord storage d = _disputes[c.agreementId][c.period];
        (d.openedAt, d.lastActionAt, d.opener) = (uint40(block.timestamp), uint40(block.timestamp), side + 1);
    }

    function _resolve(DisputeRecord storage d, Resolution resolution, uint96 ab, uint96 ba) private {
        (d.resolution, d.resolvedAB, d.resolvedBA) = (resolution, ab, ba);
    }

    function _checkRange(Ctx memory c, uint256 amount, uint256 x, uint256 y) private pure {
        (uint256 low, uint256 high) = x <= y ? (x, y) : (y, x);
        if (amount < low || amount > high)
            revert LedgerRulingOutOfRange(c.agreementId, c.period, amount, low, high);
    }

    // ---------------------------------------------------------------- internals: figures and approvals

    /// @dev Final figures; only meaningful when the base state is one of the final states.
    function _finalFigures(Ctx memory c, PeriodRecord storage p) private view returns (uint96, uint96) {
        PeriodState s = _baseState(c, p);
        if (s == PeriodState.Matched) return (p.amountABofA, p.amountBAofA);
        if (s == PeriodState.Reconciled) return _reconciled(c, p);
        if (s == PeriodState.Uncontested) {
            return p.statusA == _REVEALED ? (p.amountABofA, p.amountBAofA) : (p.amountABofB, p.amountBAofB);
        }
        DisputeRecord storage d = _disputes[c.agreementId][c.period];
        if (d.resolution != Resolution.None) return (d.resolvedAB, d.resolvedBA);
        // Lapsed arbitration: the mean of the two claims per direction, rounded down.
        return (
            uint96((uint256(p.amountABofA) + p.amountABofB) / 2),
            uint96((uint256(p.amountBAofA) + p.amountBAofB) / 2)
        );
    }

    /// @dev The undisputed part: per direction the smaller of the two claims.
    function _partialFigures(PeriodRecord storage p) private view returns (uint96, uint96) {
        return (
            p.amountABofA < p.amountABofB ? p.amountABofA : p.amountABofB,
            p.amountBAofA < p.amountBAofB ? p.amountBAofA : p.amountBAofB
        );
    }

    function _approvalFigures(
        Ctx memory c,
        bool partialSettlement
    ) private view returns (uint96 ab, uint96 ba, bytes32 rootA, bytes32 rootB, uint8 round) {
        PeriodRecord storage p = _periods[c.agreementId][c.period];
        (ab, ba) = partialSettlement ? _partialFigures(p) : _finalFigures(c, p);
        rootA = p.statusA == _REVEALED ? p.hashA : bytes32(0);
        rootB = p.statusB == _REVEALED ? p.hashB : bytes32(0);
        round = p.round;
    }

    function _recover(
        Approval memory a,
        bytes[] calldata signatures
    ) private view returns (address[] memory signers) {
        bytes32 digest = _hashTypedDataV4(keccak256(abi.encode(_APPROVAL_TYPEHASH, a)));
        signers = new address[](signatures.length);
        for (uint256 i = 0; i < signatures.length; ++i) signers[i] = ECDSA.recover(digest, signatures[i]);
    }

    function _approve(Approval memory a, address[] memory signers) private {
        Ctx memory c = _context(a.agreementId, a.period);
        uint8 side = _side(c, a.carrierId);
        _checkApproval(c, a);
        _record(c, a, side, signers);
    }

    /// @dev Checks the approval's deadline, the period's state and that it covers exactly the period's figures.
    function _checkApproval(Ctx memory c, Approval memory a) private view {
        if (a.deadline < block.timestamp) revert LedgerApprovalExpired(a.deadline);
        _expect(c, a.partialSettlement ? _DISPUTE_STATES : _FINAL_STATES);
        (uint96 ab, uint96 ba, bytes32 rootA, bytes32 rootB, uint8 round) = _approvalFigures(
            c,
            a.partialSettlement
        );
        bytes32 expected = keccak256(abi.encode(ab, ba, rootA, rootB, round));
        bytes32 given = keccak256(abi.encode(a.amountAB, a.amountBA, a.rootA, a.rootB, a.round));
        if (expected != given) revert LedgerApprovalMismatch(a.agreementId, a.period, expected, given);
    }

    function _recordUnlessApproved(
        Ctx memory c,
        Approval memory a,
        uint8 side,
        bytes[] calldata signatures
    ) private {
        if (_periods[c.agreementId][c.period].flags & _approvalFlag(side, a.partialSettlement) != 0) return;
        _record(c, a, side, _recover(a, signatures));
    }

    /// @dev Records the signers' approval for `side`; flags the carrier approved at its threshold.
    function _record(Ctx memory c, Approval memory a, uint8 side, address[] memory signers) private {
        PeriodRecord storage p = _periods[c.agreementId][c.period];
        uint8 flag = _approvalFlag(side, a.partialSettlement);
        if (p.flags & flag != 0) {
            revert LedgerAlreadyApproved(a.agreementId, a.period, a.carrierId, a.partialSettlement);
        }
        if (_tally(a, signers, _tallyIndex(side, a.partialSettlement))) {
            p.flags |= flag;
            emit CarrierApproved(
                a.agreementId,
                a.period,
                a.carrierId,
                a.partialSettlement,
                a.amountAB,
                a.amountBA
            );
        }
    }

    /// @dev Adds the signers' officer slots to the tally; true (and tally cleared) once the threshold of
    /// current officers is met. A slot set twice counts once; removed officers no longer count.
    function _tally(Approval memory a, address[] memory signers, uint256 index) private returns (bool) {
        (uint8[] memory slots, uint256 activeMask, uint8 threshold) = _registry.officerSlots(
            a.carrierId,
            signers
        );
        uint256 stored = _tallies[a.agreementId][a.period][index];
        uint256 bits = _addSlots(a, signers, slots, stored);
        if (Bits.popcount(bits & activeMask) >= threshold) {
            if (stored != 0) delete _tallies[a.agreementId][a.period][index];
            return true;
        }
        _tallies[a.agreementId][a.period][index] = bits;
        return false;
    }

    function _addSlots(
        Approval memory a,
        address[] memory signers,
        uint8[] memory slots,
        uint256 bits
    ) private returns (uint256) {
        for (uint256 i = 0; i < slots.length; ++i) {
            uint256 bit = uint256(1) << slots[i];
            if (bits & bit == 0) {
                bits |= bit;
                emit OfficerApproved(a.agreementId, a.period, a.carrierId, signers[i], a.partialSettlement);
            }
        }
        return bits;
    }

    function _approvalFlag(uint8 side, bool partialSettlement) private pure returns (uint8) {
        if (partialSettlement) return side == 0 ? _PARTIAL_APPROVED_A : _PARTIAL_APPROVED_B;
        return side == 0 ? _APPROVED_A : _APPROVED_B;
    }

    function _tallyIndex(uint8 side, bool partialSettlement) private pure returns (uint256) {
        return uint256(side) * 2 + (partialSettlement ? 1 : 0);
    }

    // ---------------------------------------------------------------- internals: money

    function _settleOne(bytes32 agreementId, uint32 period) private {
        Ctx memory c = _context(agreementId, period);
        int256 net = _markSettled(c);
        _applyDelta(c.t.carrierA, c.t.token, -net);
        _applyDelta(c.t.carrierB, c.t.token, net);
    }

    /// @dev Checks Approved, marks Settled and returns what moves from A to B (net of a partial settlement).
    function _markSettled(Ctx memory c) private returns (int256 net) {
        _expect(c, _bit(PeriodState.Approved));
        PeriodRecord storage p = _periods[c.agreementId][c.period];
        (uint96 ab, uint96 ba) = _finalFigures(c, p);
        net = _net(ab, ba);
        uint8 flags = p.flags;
        if (flags & _PARTIAL_SETTLED != 0) {
            (uint96 pab, uint96 pba) = _partialFigures(p);
            net -= _net(pab, pba);
        }
        p.flags = flags | _SETTLED;
        emit Settled(c.agreementId, c.period, c.t.token, false, ab, ba, net);
    }

    function _net(uint96 ab, uint96 ba) private pure returns (int256) {
        return int256(uint256(ab)) - int256(uint256(ba));
    }

    function _applyDelta(bytes32 carrierId, address token, int256 delta) private {
        if (delta == 0) return;
        uint256 balance = _escrow[carrierId][token];
        if (delta < 0) {
            uint256 needed = uint256(-delta);
            if (balance < needed) revert LedgerInsufficientEscrow(carrierId, token, needed, balance);
            // unchecked: needed <= balance was checked just above.
            unchecked {
                _escrow[carrierId][token] = balance - needed;
            }
        } else {
            _escrow[carrierId][token] = balance + uint256(delta);
        }
        emit EscrowMoved(carrierId, token, delta);
    }

    function _deposit(bytes32 carrierId, address token, uint256 amount) private {
        if (amount == 0) revert LedgerZeroAmount();
        if (!_registry.isRegistered(carrierId)) revert LedgerUnknownCarrier(carrierId);
        if (!_registry.isTokenListed(token)) revert LedgerTokenNotListed(token);
        IERC20 erc20 = IERC20(token);
        uint256 before = erc20.balanceOf(address(this));
        erc20.safeTransferFrom(msg.sender, address(this), amount);
        // Credit what actually arrived, so escrow always sums to the ledger's balance.
        uint256 received = erc20.balanceOf(address(this)) - before;
        _escrow[carrierId][token] += received;
        emit Deposited(carrierId, token, msg.sender, received);
    }

    function _commitment(
        bytes32 agreementId,
        uint32 period,
        bytes32 party,
        bytes32 root,
        uint256 amountAB,
        uint256 amountBA,
        bytes32 salt
    ) private pure returns (bytes32) {
        return keccak256(abi.encode(agreementId, period, party, root, amountAB, amountBA, salt));
    }
}
