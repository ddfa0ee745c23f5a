// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";
import {ISettlementLedger} from "../interfaces/ISettlementLedger.sol";
import {ICarrierRegistry} from "../interfaces/ICarrierRegistry.sol";
import {IAgreementBook} from "../interfaces/IAgreementBook.sol";
import {PeriodLib} from "../libraries/PeriodLib.sol";
import {Parties} from "../libraries/Parties.sol";
import {Bits} from "../libraries/Bits.sol";
import {LedgerStorage} from "../libraries/LedgerStorage.sol";
import {OfficerSignatures} from "../libraries/OfficerSignatures.sol";
import {LedgerEscrow} from "./LedgerEscrow.sol";

/// @title LedgerApprovals
/// @notice M-of-N approval of a period's figures by each carrier's officers: what an approval must cover
/// (the figures, roots and round the period holds), the per-carrier tally of distinct officers of the
/// current officer set that flags the carrier approved at its threshold, and the reservation of the payer's
/// net when the payer reaches it.
/// @dev An external library, deployed once and linked into SettlementLedger, which delegate-calls it: the
/// storage is the ledger's, `msg.sender` is the ledger's caller and the events are the ledger's. This keeps
/// the approval steps out of the ledger's bytecode (EIP-170). The external functions are the bodies of the
/// ledger functions of the same name; `s`, `registry` and `book` are the ledger's, `domainSeparator` its
/// EIP-712 domain separator. {structHash} is shared with the ledger.
library LedgerApprovals {
    /// @notice EIP-712 type hash of {ISettlementLedger-Approval}.
    bytes32 internal constant APPROVAL_TYPEHASH = keccak256(
        "Approval(bytes32 agreementId,uint32 period,bytes32 carrierId,uint8 round,bool partialSettlement,"
        "uint96 amountAB,uint96 amountBA,bytes32 rootA,bytes32 rootB,uint64 deadline)"
    );

    // ---------------------------------------------------------------- steps

    /// @notice {ISettlementLedger-approve}: the `approval` of the calling officer.
    function approve(
        LedgerStorage.Layout storage s,
        ICarrierRegistry registry,
        IAgreementBook book,
        ISettlementLedger.Approval calldata approval
    ) external {
        if (!registry.isOfficer(approval.carrierId, msg.sender)) {
            revert ISettlementLedger.LedgerNotOfficer(approval.carrierId, msg.sender);
        }
        address[] memory signers = new address[](1);
        signers[0] = msg.sender;
        _approve(s, registry, book, approval, signers);
    }

    /// @notice {ISettlementLedger-approveWithSignatures}: the approval of the officers who signed `approval`
    /// (see {recover}).
    function approveWithSignatures(
        LedgerStorage.Layout storage s,
        ICarrierRegistry registry,
        IAgreementBook book,
        bytes32 domainSeparator,
        ISettlementLedger.Approval calldata approval,
        bytes[] calldata signatures
    ) external {
        _approve(s, registry, book, approval, recover(domainSeparator, approval, signatures));
    }

    /// @notice {ISettlementLedger-approveAndSettle} (see {_approveBothAndSettle}).
    function approveAndSettle(
        LedgerStorage.Layout storage s,
        ICarrierRegistry registry,
        IAgreementBook book,
        bytes32 domainSeparator,
        ISettlementLedger.Approval calldata approval,
        bytes[] calldata signaturesA,
        bytes[] calldata signaturesB
    ) external {
        ISettlementLedger.Approval memory a = approval;
        (PeriodLib.Context memory c, , ) = PeriodLib.load(s, book, a.agreementId, a.period);
        _approveBothAndSettle(s, registry, domainSeparator, c, a, signaturesA, signaturesB);
    }

    /// @notice {ISettlementLedger-revealAndSettle}: both openings, then {approveAndSettle}.
    function revealAndSettle(
        LedgerStorage.Layout storage s,
        ICarrierRegistry registry,
        IAgreementBook book,
        bytes32 domainSeparator,
        ISettlementLedger.Approval calldata approval,
        ISettlementLedger.Opening calldata openingA,
        ISettlementLedger.Opening calldata openingB,
        bytes[] calldata signaturesA,
        bytes[] calldata signaturesB
    ) external {
        ISettlementLedger.Approval memory a = approval;
        (
            PeriodLib.Context memory c,
            ISettlementLedger.PeriodRecord storage p,
            ISettlementLedger.DisputeRecord storage d
        ) = PeriodLib.load(s, book, a.agreementId, a.period);
        PeriodLib.revealOpenings(p, d, c, openingA, openingB);
        _approveBothAndSettle(s, registry, domainSeparator, c, a, signaturesA, signaturesB);
    }

    // ---------------------------------------------------------------- views

    /// @notice {ISettlementLedger-approvalFigures}.
    function approvalFigures(
        LedgerStorage.Layout storage s,
        IAgreementBook book,
        bytes32 agreementId,
        uint32 period,
        bool partialSettlement
    ) external view returns (uint96 amountAB, uint96 amountBA, bytes32 rootA, bytes32 rootB, uint8 round) {
        (
            PeriodLib.Context memory c,
            ISettlementLedger.PeriodRecord storage p,
            ISettlementLedger.DisputeRecord storage d
        ) = PeriodLib.load(s, book, agreementId, period);
        PeriodLib.expect(c, _allowedStates(partialSettlement));
        return _figures(p, d, c, partialSettlement);
    }

    /// @notice {ISettlementLedger-approvalsOf}.
    function approvalsOf(
        LedgerStorage.Layout storage s,
        ICarrierRegistry registry,
        IAgreementBook book,
        bytes32 agreementId,
        uint32 period,
        bytes32 carrierId,
        bool partialSettlement
    ) external view returns (uint256 count, uint256 threshold, bool approved) {
        (PeriodLib.Context memory c, ISettlementLedger.PeriodRecord storage p, ) = PeriodLib.load(
            s,
            book,
            agreementId,
            period
        );
        uint8 side = Parties.sideOf(c, carrierId);
        approved = PeriodLib.isApproved(p, side, partialSettlement);
        (count, threshold) = _count(
            s.tallies[agreementId][period],
            registry,
            carrierId,
            side,
            partialSettlement
        );
        if (approved) count = threshold;
    }

    // ---------------------------------------------------------------- shared with the ledger

    /// @notice The EIP-712 struct hash of `a`.
    function structHash(ISettlementLedger.Approval memory a) internal pure returns (bytes32) {
        return keccak256(abi.encode(APPROVAL_TYPEHASH, a));
    }

    /// @notice The signers of `a` under `domainSeparator`, one per signature, ECDSA or ERC-1271 (see
    /// {OfficerSignatures}); reverts on a malformed or invalid one.
    function recover(
        bytes32 domainSeparator,
        ISettlementLedger.Approval memory a,
        bytes[] calldata signatures
    ) internal view returns (address[] memory) {
        return
            OfficerSignatures.signers(
                MessageHashUtils.toTypedDataHash(domainSeparator, structHash(a)),
                signatures
            );
    }

    // ---------------------------------------------------------------- internals

    /// @dev Both carriers' signature approvals of `a` (carrier A's; B's is the same with B's id), then the
    /// settlement. The payer's approval here reserves nothing: the settlement takes the net from its available
    /// escrow (or from its reservation, when its signatures came first).
    function _approveBothAndSettle(
        LedgerStorage.Layout storage s,
        ICarrierRegistry registry,
        bytes32 domainSeparator,
        PeriodLib.Context memory c,
        ISettlementLedger.Approval memory a,
        bytes[] calldata signaturesA,
        bytes[] calldata signaturesB
    ) private {
        // Approved by neither carrier before this call, the period holds no reservation to spend.
        bool reserved = PeriodLib.anyApproval(s.periods[c.agreementId][c.period]);
        uint8 side = _check(s.periods[c.agreementId][c.period], s.disputes[c.agreementId][c.period], c, a);
        // A side whose signatures reached the chain first (approveWithSignatures) is already approved:
        // recording it again would revert, and anyone could make this call fail that way (L-3).
        _recordUnlessApproved(s, registry, domainSeparator, c, a, side, signaturesA);
        (a.carrierId, side) = side == 0 ? (c.terms.carrierB, 1) : (c.terms.carrierA, 0);
        _recordUnlessApproved(s, registry, domainSeparator, c, a, side, signaturesB);
        _settleApproved(s, c, reserved);
    }

    /// @dev Settles the period of `c` now that both carriers approved it (or, for a binding outcome past its
    /// approval deadline, without), from its reservation if it may hold one (`reserved`).
    function _settleApproved(
        LedgerStorage.Layout storage s,
        PeriodLib.Context memory c,
        bool reserved
    ) private {
        ISettlementLedger.PeriodRecord storage p = s.periods[c.agreementId][c.period];
        if (PeriodLib.approvedByBoth(p)) c.state = ISettlementLedger.PeriodState.Approved;
        int256 netAB = PeriodLib.settle(p, s.disputes[c.agreementId][c.period], c);
        if (reserved) LedgerEscrow.settleReserved(s, c, p, false, netAB);
        else LedgerEscrow.moveNet(s, c.terms, netAB, 0);
    }

    /// @dev Records the approval `a` of `signers` after checking it against the period.
    function _approve(
        LedgerStorage.Layout storage s,
        ICarrierRegistry registry,
        IAgreementBook book,
        ISettlementLedger.Approval memory a,
        address[] memory signers
    ) private {
        (
            PeriodLib.Context memory c,
            ISettlementLedger.PeriodRecord storage p,
            ISettlementLedger.DisputeRecord storage d
        ) = PeriodLib.load(s, book, a.agreementId, a.period);
        uint8 side = _check(p, d, c, a);
        _record(s, registry, c, a, side, signers, true);
    }

    /// @dev The side approving `a` (reverts unless a party), after checking the approval's deadline, the
    /// period's state and that it covers exactly the period's figures.
    function _check(
        ISettlementLedger.PeriodRecord storage p,
        ISettlementLedger.DisputeRecord storage d,
        PeriodLib.Context memory c,
        ISettlementLedger.Approval memory a
    ) private view returns (uint8 side) {
        side = Parties.sideOf(c, a.carrierId);
        if (a.deadline < block.timestamp) revert ISettlementLedger.LedgerApprovalExpired(a.deadline);
        PeriodLib.expect(c, _allowedStates(a.partialSettlement));
        (uint96 ab, uint96 ba, bytes32 rootA, bytes32 rootB, uint8 round) = _figures(
            p,
            d,
            c,
            a.partialSettlement
        );
        if (
            ab != a.amountAB || ba != a.amountBA || rootA != a.rootA || rootB != a.rootB || round != a.round
        ) {
            revert ISettlementLedger.LedgerApprovalMismatch(
                a.agreementId,
                a.period,
                keccak256(abi.encode(ab, ba, rootA, rootB, round)),
                keccak256(abi.encode(a.amountAB, a.amountBA, a.rootA, a.rootB, a.round))
            );
        }
    }

    /// @dev Records the approval `a` of `side` by the signers of `signatures`, unless `side` already reached
    /// its threshold (then the signatures are not even recovered).
    function _recordUnlessApproved(
        LedgerStorage.Layout storage s,
        ICarrierRegistry registry,
        bytes32 domainSeparator,
        PeriodLib.Context memory c,
        ISettlementLedger.Approval memory a,
        uint8 side,
        bytes[] calldata signatures
    ) private {
        if (PeriodLib.isApproved(s.periods[c.agreementId][c.period], side, a.partialSettlement)) return;
        address[] memory signers = recover(domainSeparator, a, signatures);
        _record(s, registry, c, a, side, signers, false);
    }

    /// @dev Records the signers' approval for `side` (the side of `a.carrierId`); flags the carrier approved
    /// at its threshold and then, if `reserving` and the carrier is the period's payer, reserves its net.
    function _record(
        LedgerStorage.Layout storage s,
        ICarrierRegistry registry,
        PeriodLib.Context memory c,
        ISettlementLedger.Approval memory a,
        uint8 side,
        address[] memory signers,
        bool reserving
    ) private {
        ISettlementLedger.PeriodRecord storage p = s.periods[c.agreementId][c.period];
        if (PeriodLib.isApproved(p, side, a.partialSettlement)) {
            revert ISettlementLedger.LedgerAlreadyApproved(
                a.agreementId,
                a.period,
                a.carrierId,
                a.partialSettlement
            );
        }
        mapping(uint256 index => uint256) storage tally = s.tallies[c.agreementId][c.period];
        (bool reached, address[] memory counted) = _tally(
            tally,
            registry,
            a,
            signers,
            side,
            PeriodLib.hasTally(p)
        );
        if (!reached) {
            PeriodLib.markTallied(p);
            return;
        }
        PeriodLib.markApproved(p, side, a.partialSettlement);
        emit ISettlementLedger.CarrierApproved(
            a.agreementId,
            a.period,
            a.carrierId,
            a.partialSettlement,
            a.amountAB,
            a.amountBA,
            counted
        );
        if (reserving) _reserveIfPayer(s, c, p, a, side);
    }

    /// @dev Reserves what `side` owes on the figures of `a` (net of an earlier partial settlement) if it is the
    /// side that pays, until the approval's deadline (M-3).
    function _reserveIfPayer(
        LedgerStorage.Layout storage s,
        PeriodLib.Context memory c,
        ISettlementLedger.PeriodRecord storage p,
        ISettlementLedger.Approval memory a,
        uint8 side
    ) private {
        (, , int256 netAB) = PeriodLib.toSettle(
            p,
            s.disputes[c.agreementId][c.period],
            c,
            a.partialSettlement
        );
        if (netAB == 0 || (netAB > 0) != (side == 0)) return;
        uint256 owed = netAB > 0 ? uint256(netAB) : uint256(-netAB);
        LedgerEscrow.reserve(s, c, p, side, a.partialSettlement, owed, a.deadline);
    }

    /// @dev Adds the signers' officer slots to the tally of `side` kept under the carrier's current officer
    /// nonce (read only if `tallied`: some tally of the period was stored, see {PeriodLib-TALLIED}). Returns
    /// whether the current threshold of current officers is now met (the tally then cleared) and the signers
    /// this call added: they go into {ISettlementLedger-CarrierApproved} when it is met, and each
    /// into an {ISettlementLedger-OfficerApproved} when it is not, so every officer counted appears in exactly
    /// one event. A slot set twice counts once; removed officers no longer count; a tally gathered before the
    /// officer set, threshold or nodes changed is under an older nonce and is not read (I-1).
    function _tally(
        mapping(uint256 index => uint256) storage tally,
        ICarrierRegistry registry,
        ISettlementLedger.Approval memory a,
        address[] memory signers,
        uint8 side,
        bool tallied
    ) private returns (bool reached, address[] memory added) {
        (uint8[] memory slots, uint256 activeMask, uint8 threshold, uint64 nonce) = registry.officerSlots(
            a.carrierId,
            signers
        );
        uint256 index = _tallyIndex(nonce, side, a.partialSettlement);
        uint256 stored = tallied ? tally[index] : 0;
        uint256 bits;
        (bits, added) = _addSlots(signers, slots, stored);
        reached = Bits.popcount(bits & activeMask) >= threshold;
        if (reached) {
            if (stored != 0) delete tally[index];
            return (reached, added);
        }
        tally[index] = bits;
        _emitOfficerApprovals(a, added);
    }

    /// @dev One {ISettlementLedger-OfficerApproved} per officer in `officers`.
    function _emitOfficerApprovals(ISettlementLedger.Approval memory a, address[] memory officers) private {
        for (uint256 i = 0; i < officers.length; ++i) {
            emit ISettlementLedger.OfficerApproved(
                a.agreementId,
                a.period,
                a.carrierId,
                officers[i],
                a.partialSettlement
            );
        }
    }

    /// @dev `bits` with the signers' slots set, and the signers whose slot was not set yet, in order.
    function _addSlots(
        address[] memory signers,
        uint8[] memory slots,
        uint256 bits
    ) private pure returns (uint256, address[] memory added) {
        added = new address[](slots.length);
        uint256 n;
        for (uint256 i = 0; i < slots.length; ++i) {
            uint256 bit = uint256(1) << slots[i];
            if (bits & bit == 0) {
                bits |= bit;
                added[n] = signers[i];
                ++n;
            }
        }
        // Shortens `added` to the signers it holds (a memory array's length is its first word).
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            mstore(added, n)
        }
        return (bits, added);
    }

    /// @dev The figures officers must approve now (final, or the undisputed part if `partialSettlement`),
    /// with both revealed roots and the round; only meaningful in {_allowedStates}.
    function _figures(
        ISettlementLedger.PeriodRecord storage p,
        ISettlementLedger.DisputeRecord storage d,
        PeriodLib.Context memory c,
        bool partialSettlement
    ) private view returns (uint96 amountAB, uint96 amountBA, bytes32 rootA, bytes32 rootB, uint8 round) {
        (amountAB, amountBA) = partialSettlement
            ? PeriodLib.partialFigures(p)
            : PeriodLib.finalFigures(p, d, c);
        (rootA, rootB) = PeriodLib.revealedRoots(p);
        round = p.round;
    }

    /// @dev The states in which an approval of the final (or, if `partialSettlement`, the partial) figures
    /// is allowed, as a bitmap for {PeriodLib-expect}.
    function _allowedStates(bool partialSettlement) private pure returns (uint256) {
        return partialSettlement ? PeriodLib.DISPUTE_STATES : PeriodLib.FINAL_STATES;
    }

    /// @dev The officers of the current set in `side`'s pending tally, and the current threshold.
    function _count(
        mapping(uint256 index => uint256) storage tally,
        ICarrierRegistry registry,
        bytes32 carrierId,
        uint8 side,
        bool partialSettlement
    ) private view returns (uint256 count, uint256 threshold) {
        (, uint256 activeMask, uint8 t, uint64 nonce) = registry.officerSlots(carrierId, new address[](0));
        return (Bits.popcount(tally[_tallyIndex(nonce, side, partialSettlement)] & activeMask), t);
    }

    /// @dev Where `side`'s tally of final (or partial) approvals under officer nonce `nonce` is kept.
    function _tallyIndex(uint64 nonce, uint8 side, bool partialSettlement) private pure returns (uint256) {
        return (uint256(nonce) << 2) | (uint256(side) << 1) | (partialSettlement ? 1 : 0);
    }
}
