// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ISettlementLedger} from "./interfaces/ISettlementLedger.sol";
import {ICarrierRegistry} from "./interfaces/ICarrierRegistry.sol";
import {IAgreementBook} from "./interfaces/IAgreementBook.sol";
import {PeriodLib} from "./libraries/PeriodLib.sol";
import {Parties} from "./libraries/Parties.sol";
import {LedgerStorage} from "./libraries/LedgerStorage.sol";
import {LedgerDomain} from "./libraries/LedgerDomain.sol";
import {LedgerApprovals} from "./modules/LedgerApprovals.sol";
import {LedgerCommitments} from "./modules/LedgerCommitments.sol";
import {LedgerDisputes} from "./modules/LedgerDisputes.sol";
import {LedgerEscrow} from "./modules/LedgerEscrow.sol";
import {LedgerFastPath} from "./modules/LedgerFastPath.sol";

/// @title SettlementLedger
/// @notice Periods, disputes, approvals, escrow and settlement of interconnect agreements.
/// @dev Not upgradeable by design: a new version is a new deployment (see docs/CONTRACTS.md).
/// The state machine is {PeriodLib}: the states derived from the stored facts, the single transition check
/// and the effects of each transition. The ledger holds the storage, authenticates nodes and routes each
/// step. Commit, reveal, deposits and withdrawals run here; the approval steps, the dispute steps (with the
/// partial settlement), settlement, reservations and the batch settlement run in the linked libraries
/// {LedgerApprovals}, {LedgerDisputes} and {LedgerEscrow}, delegate-called on this contract's storage,
/// which keeps the ledger well under EIP-170.
contract SettlementLedger is ISettlementLedger, EIP712, ReentrancyGuard {
    using PeriodLib for PeriodRecord;

    /// @notice Rounds per period: the first one plus corrections.
    uint8 public constant MAX_ROUNDS = PeriodLib.MAX_ROUNDS;

    /// @notice Proposals per dispute, both sides together. Each one restarts the response window, so
    /// without a cap one side could re-propose just ahead of the other's escalation forever (M-1); with it,
    /// escalation is possible at the latest (MAX_PROPOSALS + 1) × the response window after the opening.
    uint8 public constant MAX_PROPOSALS = PeriodLib.MAX_PROPOSALS;

    ICarrierRegistry private immutable _registry;
    IAgreementBook private immutable _book;

    /// @dev From slot 2 on, right after EIP712's name and version fallbacks (see {LedgerStorage}).
    LedgerStorage.Layout private _store;

    constructor(
        ICarrierRegistry registry,
        IAgreementBook book
    ) EIP712(LedgerDomain.NAME, LedgerDomain.VERSION) {
        _registry = registry;
        _book = book;
    }

    // ---------------------------------------------------------------- commit / reveal

    /// @inheritdoc ISettlementLedger
    function commit(bytes32 agreementId, uint32 period, bytes32 commitment) external {
        (PeriodLib.Context memory c, , ) = PeriodLib.load(_store, _book, agreementId, period);
        (bytes32 carrierId, uint8 side) = Parties.nodeSide(c, _registry);
        PeriodLib.commit(_store.periods[agreementId][period], c, side, carrierId, commitment);
    }

    /// @inheritdoc ISettlementLedger
    function commitBoth(
        bytes32 agreementId,
        uint32 period,
        bytes32 commitmentA,
        bytes calldata nodeSignatureA,
        bytes32 commitmentB,
        bytes calldata nodeSignatureB
    ) external {
        LedgerCommitments.commitBoth(
            _store,
            _registry,
            _book,
            _domainSeparatorV4(),
            agreementId,
            period,
            [commitmentA, commitmentB],
            nodeSignatureA,
            nodeSignatureB
        );
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
        (PeriodLib.Context memory c, PeriodRecord storage p, ) = PeriodLib.load(
            _store,
            _book,
            agreementId,
            period
        );
        _reveal(c, p, root, amountAB, amountBA, salt);
    }

    /// @inheritdoc ISettlementLedger
    function revealBoth(
        bytes32 agreementId,
        uint32 period,
        Opening calldata openingA,
        Opening calldata openingB
    ) external {
        LedgerCommitments.revealBoth(_store, _book, agreementId, period, openingA, openingB);
    }

    /// @inheritdoc ISettlementLedger
    function revealAndSettle(
        Approval calldata approval,
        Opening calldata openingA,
        Opening calldata openingB,
        bytes[] calldata signaturesA,
        bytes[] calldata signaturesB
    ) external {
        LedgerApprovals.revealAndSettle(
            _store,
            _registry,
            _book,
            _domainSeparatorV4(),
            approval,
            openingA,
            openingB,
            signaturesA,
            signaturesB
        );
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
        LedgerDisputes.openDispute(
            _store,
            _registry,
            _book,
            agreementId,
            period,
            carrierId,
            reasonCode,
            evidenceCid
        );
    }

    /// @inheritdoc ISettlementLedger
    function contestDefault(
        bytes32 agreementId,
        uint32 period,
        bytes32 carrierId,
        Claim calldata claim,
        uint16 reasonCode,
        string calldata evidenceCid
    ) external {
        LedgerDisputes.contestDefault(
            _store,
            _registry,
            _book,
            agreementId,
            period,
            carrierId,
            claim,
            reasonCode,
            evidenceCid
        );
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
        LedgerDisputes.proposeFigures(
            _store,
            _registry,
            _book,
            agreementId,
            period,
            carrierId,
            amountAB,
            amountBA,
            evidenceCid
        );
    }

    /// @inheritdoc ISettlementLedger
    function acceptFigures(
        bytes32 agreementId,
        uint32 period,
        bytes32 carrierId,
        uint96 amountAB,
        uint96 amountBA
    ) external {
        LedgerDisputes.acceptFigures(
            _store,
            _registry,
            _book,
            agreementId,
            period,
            carrierId,
            amountAB,
            amountBA
        );
    }

    /// @inheritdoc ISettlementLedger
    function escalate(bytes32 agreementId, uint32 period, bytes32 carrierId) external {
        LedgerDisputes.escalate(_store, _registry, _book, agreementId, period, carrierId);
    }

    /// @inheritdoc ISettlementLedger
    function rule(
        bytes32 agreementId,
        uint32 period,
        uint96 amountAB,
        uint96 amountBA,
        string calldata rationaleCid
    ) external {
        LedgerDisputes.rule(_store, _registry, _book, agreementId, period, amountAB, amountBA, rationaleCid);
    }

    /// @inheritdoc ISettlementLedger
    function withdrawDispute(bytes32 agreementId, uint32 period, bytes32 carrierId) external {
        LedgerDisputes.withdrawDispute(_store, _registry, _book, agreementId, period, carrierId);
    }

    // ---------------------------------------------------------------- approvals

    /// @inheritdoc ISettlementLedger
    function approve(Approval calldata approval) external {
        LedgerApprovals.approve(_store, _registry, _book, approval);
    }

    /// @inheritdoc ISettlementLedger
    function approveWithSignatures(Approval calldata approval, bytes[] calldata signatures) external {
        LedgerApprovals.approveWithSignatures(
            _store,
            _registry,
            _book,
            _domainSeparatorV4(),
            approval,
            signatures
        );
    }

    /// @inheritdoc ISettlementLedger
    function approveAndSettle(
        Approval calldata approval,
        bytes[] calldata signaturesA,
        bytes[] calldata signaturesB
    ) external {
        LedgerApprovals.approveAndSettle(
            _store,
            _registry,
            _book,
            _domainSeparatorV4(),
            approval,
            signaturesA,
            signaturesB
        );
    }

    // ---------------------------------------------------------------- settlement

    /// @inheritdoc ISettlementLedger
    function settle(bytes32 agreementId, uint32 period) external {
        LedgerEscrow.settle(_store, _book, agreementId, period);
    }

    /// @inheritdoc ISettlementLedger
    function settlePartial(bytes32 agreementId, uint32 period) external {
        LedgerDisputes.settlePartial(_store, _book, agreementId, period);
    }

    /// @inheritdoc ISettlementLedger
    function settleBatch(address token, PeriodKey[] calldata keys) external {
        LedgerEscrow.settleBatch(_store, _book, token, keys);
    }

    /// @inheritdoc ISettlementLedger
    function settleFastPath(
        Settlement calldata settlement,
        bytes[] calldata signaturesA,
        bytes[] calldata signaturesB
    ) external {
        LedgerFastPath.settleFastPath(_store, _registry, _book, settlement, signaturesA, signaturesB);
    }

    // ---------------------------------------------------------------- escrow

    /// @inheritdoc ISettlementLedger
    function deposit(bytes32 carrierId, address token, uint256 amount) external nonReentrant {
        LedgerEscrow.deposit(_store.balances, _registry, carrierId, token, amount);
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
        LedgerEscrow.deposit(_store.balances, _registry, carrierId, token, amount);
    }

    /// @inheritdoc ISettlementLedger
    function withdraw(bytes32 carrierId, address token, uint256 amount) external nonReentrant {
        LedgerEscrow.withdraw(_store, _registry, carrierId, token, amount);
    }

    /// @inheritdoc ISettlementLedger
    function release(bytes32 agreementId, uint32 period) external {
        LedgerEscrow.release(_store, _book, agreementId, period);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc ISettlementLedger
    function state(bytes32 agreementId, uint32 period) external view returns (PeriodState) {
        (PeriodLib.Context memory c, , ) = PeriodLib.load(_store, _book, agreementId, period);
        return c.state;
    }

    /// @inheritdoc ISettlementLedger
    function periodRecord(bytes32 agreementId, uint32 period) external view returns (PeriodRecord memory) {
        return _store.periods[agreementId][period];
    }

    /// @inheritdoc ISettlementLedger
    function disputeRecord(bytes32 agreementId, uint32 period) external view returns (DisputeRecord memory) {
        return _store.disputes[agreementId][period];
    }

    /// @inheritdoc ISettlementLedger
    function deadlines(bytes32 agreementId, uint32 period) external view returns (Deadlines memory) {
        return LedgerDisputes.deadlines(_store, _book, agreementId, period);
    }

    /// @inheritdoc ISettlementLedger
    function approvalFigures(
        bytes32 agreementId,
        uint32 period,
        bool partialSettlement
    ) external view returns (uint96 amountAB, uint96 amountBA, bytes32 rootA, bytes32 rootB, uint8 round) {
        return LedgerApprovals.approvalFigures(_store, _book, agreementId, period, partialSettlement);
    }

    /// @inheritdoc ISettlementLedger
    function approvalsOf(
        bytes32 agreementId,
        uint32 period,
        bytes32 carrierId,
        bool partialSettlement
    ) external view returns (uint256 count, uint256 threshold, bool approved) {
        return
            LedgerApprovals.approvalsOf(
                _store,
                _registry,
                _book,
                agreementId,
                period,
                carrierId,
                partialSettlement
            );
    }

    /// @inheritdoc ISettlementLedger
    function escrowOf(bytes32 carrierId, address token) external view returns (uint256) {
        return _store.balances[carrierId][token].escrow;
    }

    /// @inheritdoc ISettlementLedger
    function approvalDigest(Approval calldata approval) external view returns (bytes32) {
        return _hashTypedDataV4(LedgerApprovals.structHash(approval));
    }

    /// @inheritdoc ISettlementLedger
    function computeCommitment(
        bytes32 agreementId,
        uint32 period,
        uint8 round,
        bytes32 party,
        bytes32 root,
        uint256 amountAB,
        uint256 amountBA,
        bytes32 salt
    ) external view returns (bytes32) {
        return PeriodLib.commitment(agreementId, period, round, party, root, amountAB, amountBA, salt);
    }

    /// @inheritdoc ISettlementLedger
    function reservedOf(bytes32 carrierId, address token) external view returns (uint256) {
        return _store.balances[carrierId][token].reserved;
    }

    /// @inheritdoc ISettlementLedger
    function reservationOf(bytes32 agreementId, uint32 period) external view returns (Reservation memory) {
        return _store.reservations[agreementId][period];
    }

    // ---------------------------------------------------------------- internals

    /// @dev The body of {reveal}, apart so that its arguments fit the stack.
    function _reveal(
        PeriodLib.Context memory c,
        PeriodRecord storage p,
        bytes32 root,
        uint96 amountAB,
        uint96 amountBA,
        bytes32 salt
    ) private {
        (bytes32 carrierId, uint8 side) = Parties.nodeSide(c, _registry);
        p.reveal(c, side, carrierId, root, amountAB, amountBA, salt);
    }
}
