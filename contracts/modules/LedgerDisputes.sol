// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {ISettlementLedger} from "../interfaces/ISettlementLedger.sol";
import {ICarrierRegistry} from "../interfaces/ICarrierRegistry.sol";
import {IAgreementBook} from "../interfaces/IAgreementBook.sol";
import {PeriodLib} from "../libraries/PeriodLib.sol";
import {PeriodDisputes} from "../libraries/PeriodDisputes.sol";
import {Parties} from "../libraries/Parties.sol";
import {LedgerStorage} from "../libraries/LedgerStorage.sol";
import {LedgerEscrow} from "./LedgerEscrow.sol";

/// @title LedgerDisputes
/// @notice The dispute steps of {ISettlementLedger} (open, contest a default, propose, accept, escalate, rule,
/// withdraw) and the settlement of the undisputed part during a dispute: who may take them and the events
/// that report them; the states they are allowed in and their effects are {PeriodLib}'s transitions.
/// @dev An external library, deployed once and linked into SettlementLedger, which delegate-calls it: the
/// records are the ledger's storage, `msg.sender` is the ledger's caller and the events are the ledger's.
/// This keeps the dispute steps out of the ledger's bytecode (EIP-170). Each function is the body of the
/// ledger function of the same name; `s`, `registry` and `book` are the ledger's.
library LedgerDisputes {
    /// @notice {ISettlementLedger-openDispute}.
    function openDispute(
        LedgerStorage.Layout storage s,
        ICarrierRegistry registry,
        IAgreementBook book,
        bytes32 agreementId,
        uint32 period,
        bytes32 carrierId,
        uint16 reasonCode,
        string calldata evidenceCid
    ) external {
        (
            PeriodLib.Context memory c,
            ISettlementLedger.PeriodRecord storage p,
            ISettlementLedger.DisputeRecord storage d
        ) = PeriodLib.load(s, book, agreementId, period);
        uint8 side = Parties.officerSide(c, registry, carrierId);
        PeriodDisputes.openDispute(p, d, c, side);
        emit ISettlementLedger.DisputeOpened(agreementId, period, carrierId, reasonCode, evidenceCid);
    }

    /// @notice {ISettlementLedger-contestDefault}.
    function contestDefault(
        LedgerStorage.Layout storage s,
        ICarrierRegistry registry,
        IAgreementBook book,
        bytes32 agreementId,
        uint32 period,
        bytes32 carrierId,
        ISettlementLedger.Claim calldata claim,
        uint16 reasonCode,
        string calldata evidenceCid
    ) external {
        (
            PeriodLib.Context memory c,
            ISettlementLedger.PeriodRecord storage p,
            ISettlementLedger.DisputeRecord storage d
        ) = PeriodLib.load(s, book, agreementId, period);
        uint8 side = Parties.officerSide(c, registry, carrierId);
        bytes32 root = PeriodDisputes.contestDefault(p, d, c, side, carrierId, claim);
        emit ISettlementLedger.DefaultContested(
            agreementId,
            period,
            carrierId,
            root,
            claim.amountAB,
            claim.amountBA,
            reasonCode,
            evidenceCid
        );
    }

    /// @notice {ISettlementLedger-proposeFigures}.
    function proposeFigures(
        LedgerStorage.Layout storage s,
        ICarrierRegistry registry,
        IAgreementBook book,
        bytes32 agreementId,
        uint32 period,
        bytes32 carrierId,
        uint96 amountAB,
        uint96 amountBA,
        string calldata evidenceCid
    ) external {
        (PeriodLib.Context memory c, , ISettlementLedger.DisputeRecord storage d) = PeriodLib.load(
            s,
            book,
            agreementId,
            period
        );
        uint8 side = Parties.officerSide(c, registry, carrierId);
        PeriodDisputes.propose(d, c, side, amountAB, amountBA);
        emit ISettlementLedger.FiguresProposed(
            agreementId,
            period,
            carrierId,
            amountAB,
            amountBA,
            evidenceCid
        );
    }

    /// @notice {ISettlementLedger-acceptFigures}.
    function acceptFigures(
        LedgerStorage.Layout storage s,
        ICarrierRegistry registry,
        IAgreementBook book,
        bytes32 agreementId,
        uint32 period,
        bytes32 carrierId,
        uint96 amountAB,
        uint96 amountBA
    ) external {
        (PeriodLib.Context memory c, , ISettlementLedger.DisputeRecord storage d) = PeriodLib.load(
            s,
            book,
            agreementId,
            period
        );
        uint8 side = Parties.officerSide(c, registry, carrierId);
        (uint96 proposedAB, uint96 proposedBA) = PeriodDisputes.acceptProposal(
            d,
            c,
            side,
            carrierId,
            amountAB,
            amountBA
        );
        emit ISettlementLedger.FiguresAccepted(agreementId, period, carrierId, proposedAB, proposedBA);
    }

    /// @notice {ISettlementLedger-escalate}.
    function escalate(
        LedgerStorage.Layout storage s,
        ICarrierRegistry registry,
        IAgreementBook book,
        bytes32 agreementId,
        uint32 period,
        bytes32 carrierId
    ) external {
        (PeriodLib.Context memory c, , ISettlementLedger.DisputeRecord storage d) = PeriodLib.load(
            s,
            book,
            agreementId,
            period
        );
        Parties.officerSide(c, registry, carrierId);
        uint256 arbitrationDeadline = PeriodDisputes.escalate(d, c);
        emit ISettlementLedger.DisputeEscalated(agreementId, period, carrierId, arbitrationDeadline);
    }

    /// @notice {ISettlementLedger-rule}.
    function rule(
        LedgerStorage.Layout storage s,
        ICarrierRegistry registry,
        IAgreementBook book,
        bytes32 agreementId,
        uint32 period,
        uint96 amountAB,
        uint96 amountBA,
        string calldata rationaleCid
    ) external {
        (
            PeriodLib.Context memory c,
            ISettlementLedger.PeriodRecord storage p,
            ISettlementLedger.DisputeRecord storage d
        ) = PeriodLib.load(s, book, agreementId, period);
        if (msg.sender != c.terms.arbiter || !registry.canArbitrate(msg.sender)) {
            revert ISettlementLedger.LedgerNotArbiter(agreementId, msg.sender);
        }
        PeriodDisputes.arbitrate(p, d, c, amountAB, amountBA);
        emit ISettlementLedger.DisputeRuled(
            agreementId,
            period,
            msg.sender,
            amountAB,
            amountBA,
            rationaleCid
        );
    }

    /// @notice {ISettlementLedger-withdrawDispute}.
    function withdrawDispute(
        LedgerStorage.Layout storage s,
        ICarrierRegistry registry,
        IAgreementBook book,
        bytes32 agreementId,
        uint32 period,
        bytes32 carrierId
    ) external {
        (
            PeriodLib.Context memory c,
            ISettlementLedger.PeriodRecord storage p,
            ISettlementLedger.DisputeRecord storage d
        ) = PeriodLib.load(s, book, agreementId, period);
        uint8 side = Parties.officerSide(c, registry, carrierId);
        (uint96 amountAB, uint96 amountBA) = PeriodDisputes.withdrawDispute(p, d, c, side, carrierId);
        emit ISettlementLedger.DisputeWithdrawn(agreementId, period, carrierId, amountAB, amountBA);
    }

    /// @notice {ISettlementLedger-settlePartial}: the undisputed part, once both carriers approved it, from the
    /// payer's reservation.
    function settlePartial(
        LedgerStorage.Layout storage s,
        IAgreementBook book,
        bytes32 agreementId,
        uint32 period
    ) external {
        (PeriodLib.Context memory c, ISettlementLedger.PeriodRecord storage p, ) = PeriodLib.load(
            s,
            book,
            agreementId,
            period
        );
        LedgerEscrow.settleReserved(s, c, p, true, PeriodLib.settlePartial(p, c));
    }

    /// @notice {ISettlementLedger-deadlines}.
    function deadlines(
        LedgerStorage.Layout storage s,
        IAgreementBook book,
        bytes32 agreementId,
        uint32 period
    ) external view returns (ISettlementLedger.Deadlines memory) {
        (
            PeriodLib.Context memory c,
            ISettlementLedger.PeriodRecord storage p,
            ISettlementLedger.DisputeRecord storage d
        ) = PeriodLib.load(s, book, agreementId, period);
        return PeriodLib.deadlines(p, d, c);
    }
}
