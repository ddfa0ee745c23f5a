// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";
import {ISettlementLedger} from "../interfaces/ISettlementLedger.sol";
import {ICarrierRegistry} from "../interfaces/ICarrierRegistry.sol";
import {IAgreementBook} from "../interfaces/IAgreementBook.sol";
import {PeriodLib} from "../libraries/PeriodLib.sol";
import {LedgerStorage} from "../libraries/LedgerStorage.sol";
import {LedgerDomain} from "../libraries/LedgerDomain.sol";
import {LedgerEscrow} from "./LedgerEscrow.sol";
import {OfficerSignatures} from "../libraries/OfficerSignatures.sol";

/// @title LedgerFastPath
/// @notice The co-signed fast path: when both carriers' nodes built the same summary (same root, same totals),
/// each carrier's officers sign one EIP-712 {ISettlementLedger-Settlement} and one transaction records the
/// figures and settles the net, instead of two commits, two reveals, two approvals and a settlement.
/// @dev An external library, deployed once and linked into SettlementLedger, which delegate-calls it: the
/// records are the ledger's storage and the events are the ledger's. Who signed is checked here; the states
/// the fast path is allowed in and its effects on the record are {PeriodLib-settleFastPath}; the escrow moves
/// through {LedgerEscrow-moveNet}, like every other settlement.
library LedgerFastPath {
    /// @notice EIP-712 type hash of {ISettlementLedger-Settlement}.
    bytes32 internal constant SETTLEMENT_TYPEHASH = keccak256(
        "Settlement(bytes32 agreementId,uint32 period,bytes32 root,uint96 amountAB,uint96 amountBA,uint64 deadline)"
    );

    /// @notice {ISettlementLedger-settleFastPath}. `s`, `registry` and `book` are the ledger's; the signing domain
    /// is the ledger's own ({LedgerDomain}, `address(this)` being the ledger in a delegate call).
    function settleFastPath(
        LedgerStorage.Layout storage s,
        ICarrierRegistry registry,
        IAgreementBook book,
        ISettlementLedger.Settlement calldata settlement,
        bytes[] calldata signaturesA,
        bytes[] calldata signaturesB
    ) external {
        if (settlement.deadline < block.timestamp) {
            revert ISettlementLedger.LedgerSettlementExpired(settlement.deadline);
        }
        // A zero root is how the ledger records "did not reveal"; no summary has it (see docs/PROTOCOL.md).
        if (settlement.root == bytes32(0)) revert ISettlementLedger.LedgerZeroHash();
        (PeriodLib.Context memory c, ISettlementLedger.PeriodRecord storage p) = PeriodLib
            .loadSettlementTerms(s, book, settlement.agreementId, settlement.period);
        (uint256 officersA, uint256 officersB) = _verify(
            registry,
            c,
            _digest(settlement),
            signaturesA,
            signaturesB
        );
        _settle(s, p, c, settlement, officersA, officersB);
    }

    /// @notice The EIP-712 digest of the `Settlement` with these fields for the ledger at `ledger` on this chain:
    /// what each officer of both carriers signs. The fast path computes it with the ledger's own address; anyone may
    /// call it on the library's address (flat arguments: a library function's selector names its struct types).
    function settlementDigest(
        address ledger,
        bytes32 agreementId,
        uint32 period,
        bytes32 root,
        uint96 amountAB,
        uint96 amountBA,
        uint64 deadline
    ) public view returns (bytes32) {
        bytes32 structHash = keccak256(
            abi.encode(SETTLEMENT_TYPEHASH, agreementId, period, root, amountAB, amountBA, deadline)
        );
        return MessageHashUtils.toTypedDataHash(LedgerDomain.separator(ledger), structHash);
    }

    /// @dev {settlementDigest} of `settlement` for this ledger.
    function _digest(ISettlementLedger.Settlement calldata settlement) private view returns (bytes32) {
        return
            settlementDigest(
                address(this),
                settlement.agreementId,
                settlement.period,
                settlement.root,
                settlement.amountAB,
                settlement.amountBA,
                settlement.deadline
            );
    }

    /// @dev The officer slots (bitmaps) that signed `digest` for each carrier, after checking each side's signers
    /// are distinct current officers, at least its threshold now, and that no address signed for both.
    function _verify(
        ICarrierRegistry registry,
        PeriodLib.Context memory c,
        bytes32 digest,
        bytes[] calldata signaturesA,
        bytes[] calldata signaturesB
    ) private view returns (uint256 officersA, uint256 officersB) {
        address[] memory signersA = _signers(digest, signaturesA);
        address[] memory signersB = _signers(digest, signaturesB);
        officersA = _requireThreshold(registry, c.terms.carrierA, signersA);
        officersB = _requireThreshold(registry, c.terms.carrierB, signersB);
        _requireDisjoint(c.terms.carrierB, signersA, signersB);
    }

    /// @dev The transition, its event and the escrow move.
    function _settle(
        LedgerStorage.Layout storage s,
        ISettlementLedger.PeriodRecord storage p,
        PeriodLib.Context memory c,
        ISettlementLedger.Settlement calldata settlement,
        uint256 officersA,
        uint256 officersB
    ) private {
        int256 netAB = PeriodLib.settleFastPath(p, c, settlement.amountAB, settlement.amountBA);
        emit ISettlementLedger.FastPathSettled(
            c.agreementId,
            c.period,
            c.terms.token,
            settlement.root,
            settlement.amountAB,
            settlement.amountBA,
            officersA,
            officersB
        );
        // No approval came before, so no reservation: the payer's available escrow pays (M-3).
        LedgerEscrow.moveNet(s, c.terms, netAB, 0);
    }

    /// @dev Who signed `digest`, one address per signature, ECDSA or an ERC-1271 contract officer (see
    /// {OfficerSignatures}); reverts on a malformed or invalid one.
    function _signers(bytes32 digest, bytes[] calldata signatures) private view returns (address[] memory) {
        return OfficerSignatures.signers(digest, signatures);
    }

    /// @dev The officer slots of `signers` as a bitmap, after checking they are distinct current officers of
    /// `carrierId` (the registry reverts with {ICarrierRegistry-RegistryNotOfficer} naming the first that is not),
    /// at least its threshold now.
    function _requireThreshold(
        ICarrierRegistry registry,
        bytes32 carrierId,
        address[] memory signers
    ) private view returns (uint256 officers) {
        for (uint256 i = 1; i < signers.length; ++i) {
            for (uint256 j = 0; j < i; ++j) {
                if (signers[j] == signers[i])
                    revert ISettlementLedger.LedgerDuplicateSigner(carrierId, signers[i]);
            }
        }
        uint256 threshold;
        (officers, threshold) = registry.officerBitmap(carrierId, signers);
        // Distinct current officers hold distinct slots: as many officers as signers.
        if (signers.length < threshold) {
            revert ISettlementLedger.LedgerBelowThreshold(carrierId, signers.length, threshold);
        }
    }

    /// @dev Reverts when one address signed for both carriers (an officer of both): a signature counts for one.
    function _requireDisjoint(
        bytes32 carrierB,
        address[] memory signersA,
        address[] memory signersB
    ) private pure {
        for (uint256 i = 0; i < signersB.length; ++i) {
            for (uint256 j = 0; j < signersA.length; ++j) {
                if (signersA[j] == signersB[i])
                    revert ISettlementLedger.LedgerDuplicateSigner(carrierB, signersB[i]);
            }
        }
    }
}
