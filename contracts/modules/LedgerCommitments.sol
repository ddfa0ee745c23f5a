// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";
import {ISettlementLedger} from "../interfaces/ISettlementLedger.sol";
import {ICarrierRegistry} from "../interfaces/ICarrierRegistry.sol";
import {IAgreementBook} from "../interfaces/IAgreementBook.sol";
import {PeriodLib} from "../libraries/PeriodLib.sol";
import {LedgerStorage} from "../libraries/LedgerStorage.sol";

/// @title LedgerCommitments
/// @notice Both carriers' commitments, and both openings, in one transaction each. The commitments: each
/// signed by a node of its carrier as EIP-712 `Commitment`, which the nodes exchange over the peer protocol
/// before either is on the ledger. A commitment
/// is a salted hash, so handing it to the partner shows nothing of the figures; what makes commit–reveal fair
/// (no party chooses its figures after seeing the other's) holds as long as the openings are exchanged only
/// once both commitments are on the ledger.
/// @dev An external library, deployed once and linked into SettlementLedger, which delegate-calls it (storage,
/// events and `msg.sender` are the ledger's). The commit transition itself is {PeriodLib-commit}.
library LedgerCommitments {
    /// @notice EIP-712 type hash of the commitment a node signs for {ISettlementLedger-commitBoth}.
    bytes32 internal constant COMMITMENT_TYPEHASH = keccak256(
        "Commitment(bytes32 agreementId,uint32 period,uint8 round,bytes32 carrierId,bytes32 commitment)"
    );

    /// @notice {ISettlementLedger-commitBoth}; `commitments` is A's then B's.
    function commitBoth(
        LedgerStorage.Layout storage s,
        ICarrierRegistry registry,
        IAgreementBook book,
        bytes32 domainSeparator,
        bytes32 agreementId,
        uint32 period,
        bytes32[2] calldata commitments,
        bytes calldata nodeSignatureA,
        bytes calldata nodeSignatureB
    ) external {
        (PeriodLib.Context memory c, ISettlementLedger.PeriodRecord storage p) = PeriodLib
            .loadSettlementTerms(s, book, agreementId, period);
        uint8 round = PeriodLib.commitRound(p, c);
        if (!PeriodLib.committedNow(p, c, 0)) {
            _requireNode(
                registry,
                domainSeparator,
                c,
                round,
                c.terms.carrierA,
                commitments[0],
                nodeSignatureA
            );
            PeriodLib.commit(p, c, 0, c.terms.carrierA, commitments[0]);
        }
        if (!PeriodLib.committedNow(p, c, 1)) {
            _requireNode(
                registry,
                domainSeparator,
                c,
                round,
                c.terms.carrierB,
                commitments[1],
                nodeSignatureB
            );
            PeriodLib.commit(p, c, 1, c.terms.carrierB, commitments[1]);
        }
    }

    /// @notice {ISettlementLedger-revealBoth}.
    function revealBoth(
        LedgerStorage.Layout storage s,
        IAgreementBook book,
        bytes32 agreementId,
        uint32 period,
        ISettlementLedger.Opening calldata openingA,
        ISettlementLedger.Opening calldata openingB
    ) external {
        (
            PeriodLib.Context memory c,
            ISettlementLedger.PeriodRecord storage p,
            ISettlementLedger.DisputeRecord storage d
        ) = PeriodLib.load(s, book, agreementId, period);
        PeriodLib.revealOpenings(p, d, c, openingA, openingB);
    }

    /// @dev Reverts unless `signature` is a current node of `carrierId` signing `commitment` for `round`; an empty
    /// signature stands for the caller's own (the submitting node commits for its carrier as {commit} does).
    function _requireNode(
        ICarrierRegistry registry,
        bytes32 domainSeparator,
        PeriodLib.Context memory c,
        uint8 round,
        bytes32 carrierId,
        bytes32 commitment,
        bytes calldata signature
    ) private view {
        bytes32 digest = MessageHashUtils.toTypedDataHash(
            domainSeparator,
            keccak256(abi.encode(COMMITMENT_TYPEHASH, c.agreementId, c.period, round, carrierId, commitment))
        );
        address signer = signature.length == 0 ? msg.sender : ECDSA.recoverCalldata(digest, signature);
        if (registry.carrierOfNode(signer) != carrierId) {
            revert ISettlementLedger.LedgerNotCarrierNode(carrierId, signer);
        }
    }
}
