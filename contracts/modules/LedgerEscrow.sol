// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {ISettlementLedger} from "../interfaces/ISettlementLedger.sol";
import {ICarrierRegistry} from "../interfaces/ICarrierRegistry.sol";
import {IAgreementBook} from "../interfaces/IAgreementBook.sol";
import {PeriodLib} from "../libraries/PeriodLib.sol";
import {Netting} from "../libraries/Netting.sol";
import {LedgerStorage} from "../libraries/LedgerStorage.sol";

/// @title LedgerEscrow
/// @notice Carriers' escrow balances per token: deposits, withdrawals to the treasury, the reservations that
/// hold a payer's net for an approved settlement, the moves of settlement and the netted settlement of many
/// periods. The ledger's token balance always equals the sum of the balances; each carrier's reserved part
/// never exceeds its balance, and only the available part (balance − reserved) can be withdrawn or spent by a
/// settlement that holds no reservation.
/// @dev The balance primitives ({deposit}, {withdraw}, {reserve}, {settleReserved}, {moveNet}, {move}) are
/// internal, compiled into the ledger and into the modules that settle: settlement moves escrow on every path,
/// and SafeERC20's error belongs to the ledger's ABI. {settle}, {settleBatch} and {release} are external: the
/// library is deployed once and linked into SettlementLedger, which delegate-calls it on its own storage
/// (EIP-170). `s` is the ledger's storage; callers guard deposits and withdrawals against reentrancy.
library LedgerEscrow {
    using SafeERC20 for IERC20;

    // ---------------------------------------------------------------- steps

    /// @notice {ISettlementLedger-settleBatch}: settles every Approved period of `keys` in `token` from its
    /// reservation, leaves out with {ISettlementLedger-SettlementSkipped} each one that is not Approved, then
    /// moves only each carrier's net position. `s` and `book` are the ledger's.
    function settleBatch(
        LedgerStorage.Layout storage s,
        IAgreementBook book,
        address token,
        ISettlementLedger.PeriodKey[] calldata keys
    ) external {
        Netting.Position[] memory positions = new Netting.Position[](keys.length * 2);
        uint256 count;
        for (uint256 i = 0; i < keys.length; ++i) {
            (
                PeriodLib.Context memory c,
                ISettlementLedger.PeriodRecord storage p,
                ISettlementLedger.DisputeRecord storage d
            ) = PeriodLib.load(s, book, keys[i].agreementId, keys[i].period);
            if (c.terms.token != token) {
                revert ISettlementLedger.LedgerTokenMismatch(c.agreementId, c.period, token, c.terms.token);
            }
            if (!PeriodLib.settleable(p, d, c)) {
                // Settled first by someone else, listed twice, not approved (nor binding past its approval
                // deadline): the rest of the batch stands.
                emit ISettlementLedger.SettlementSkipped(c.agreementId, c.period, c.state);
                continue;
            }
            int256 netAB = PeriodLib.settle(p, d, c);
            uint256 reserved = consume(s, c, p, false);
            (uint256 reservedA, uint256 reservedB) = netAB > 0
                ? (reserved, uint256(0))
                : (uint256(0), reserved);
            count = Netting.add(positions, count, c.terms.carrierA, -netAB, reservedA);
            count = Netting.add(positions, count, c.terms.carrierB, netAB, reservedB);
        }
        for (uint256 i = 0; i < count; ++i) {
            Netting.Position memory position = positions[i];
            move(s, position.carrierId, token, position.delta, position.reserved);
        }
    }

    /// @notice {ISettlementLedger-settle}: settles one Approved period from its payer's reservation, or a
    /// binding outcome past its approval deadline (from the reservation if its payer approved, else from the
    /// payer's available balance).
    function settle(
        LedgerStorage.Layout storage s,
        IAgreementBook book,
        bytes32 agreementId,
        uint32 period
    ) external {
        (
            PeriodLib.Context memory c,
            ISettlementLedger.PeriodRecord storage p,
            ISettlementLedger.DisputeRecord storage d
        ) = PeriodLib.load(s, book, agreementId, period);
        settleReserved(s, c, p, false, PeriodLib.settle(p, d, c));
    }

    /// @notice {ISettlementLedger-release}: ends the period's reservation after it expired, unless both
    /// carriers approved.
    function release(
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
        ISettlementLedger.Reservation memory r = s.reservations[agreementId][period];
        if (r.amount == 0) revert ISettlementLedger.LedgerNoReservation(agreementId, period);
        if (block.timestamp <= r.expiresAt) {
            revert ISettlementLedger.LedgerTooEarly(agreementId, period, uint256(r.expiresAt) + 1);
        }
        // Both approved: the settlement is guaranteed and must find the money. A partial reservation stays
        // bound only while the undisputed part can still be settled (during the dispute).
        if (
            PeriodLib.isApproved(p, 0, r.partialSettlement) &&
            PeriodLib.isApproved(p, 1, r.partialSettlement) &&
            (!r.partialSettlement || PeriodLib.bit(c.state) & PeriodLib.DISPUTE_STATES != 0)
        ) {
            revert ISettlementLedger.LedgerReservationBound(agreementId, period);
        }
        _release(s, c, p, r);
    }

    // ---------------------------------------------------------------- balances

    /// @notice Credits `carrierId` with what actually arrives of `amount` of `token` from `msg.sender`.
    function deposit(
        mapping(bytes32 carrierId => mapping(address token => LedgerStorage.Balance)) storage balances,
        ICarrierRegistry registry,
        bytes32 carrierId,
        address token,
        uint256 amount
    ) internal {
        if (amount == 0) revert ISettlementLedger.LedgerZeroAmount();
        if (!registry.isRegistered(carrierId)) revert ISettlementLedger.LedgerUnknownCarrier(carrierId);
        if (!registry.isTokenListed(token)) revert ISettlementLedger.LedgerTokenNotListed(token);
        IERC20 erc20 = IERC20(token);
        uint256 before = erc20.balanceOf(address(this));
        erc20.safeTransferFrom(msg.sender, address(this), amount);
        // Credit what actually arrived, so escrow always sums to the ledger's balance.
        uint256 received = erc20.balanceOf(address(this)) - before;
        LedgerStorage.Balance storage b = balances[carrierId][token];
        b.escrow = SafeCast.toUint128(b.escrow + received);
        emit ISettlementLedger.Deposited(carrierId, token, msg.sender, received);
    }

    /// @notice Sends `amount` of `carrierId`'s available `token` balance (not reserved) to its treasury
    /// (`msg.sender` must be one of its officers).
    function withdraw(
        LedgerStorage.Layout storage s,
        ICarrierRegistry registry,
        bytes32 carrierId,
        address token,
        uint256 amount
    ) internal {
        if (!registry.isOfficer(carrierId, msg.sender)) {
            revert ISettlementLedger.LedgerNotOfficer(carrierId, msg.sender);
        }
        if (amount == 0) revert ISettlementLedger.LedgerZeroAmount();
        LedgerStorage.Balance storage b = s.balances[carrierId][token];
        uint256 balance = b.escrow;
        uint256 available = balance - b.reserved;
        if (available < amount) {
            revert ISettlementLedger.LedgerInsufficientEscrow(carrierId, token, amount, available);
        }
        // amount <= available <= balance was checked just above, so it fits.
        b.escrow = uint128(balance - amount);
        address treasury = registry.treasuryOf(carrierId);
        emit ISettlementLedger.Withdrawn(carrierId, token, treasury, amount);
        IERC20(token).safeTransfer(treasury, amount);
    }

    // ---------------------------------------------------------------- reservations

    /// @notice Reserves `amount` of the available escrow of `side` (the period's payer, which just reached its
    /// threshold) for the settlement of the period (its undisputed part if `partialSettlement`) until
    /// `expiresAt`; reverts with {ISettlementLedger-LedgerInsufficientEscrow} when the available part is short.
    /// A partial reservation the end of the dispute left unused is released first: a period holds one.
    function reserve(
        LedgerStorage.Layout storage s,
        PeriodLib.Context memory c,
        ISettlementLedger.PeriodRecord storage p,
        uint8 side,
        bool partialSettlement,
        uint256 amount,
        uint64 expiresAt
    ) internal {
        ISettlementLedger.Reservation memory r = s.reservations[c.agreementId][c.period];
        if (r.amount != 0) _release(s, c, p, r);
        bytes32 carrierId = side == 0 ? c.terms.carrierA : c.terms.carrierB;
        address token = c.terms.token;
        LedgerStorage.Balance storage b = s.balances[carrierId][token];
        uint256 reserved = b.reserved;
        uint256 available = b.escrow - reserved;
        if (available < amount) {
            revert ISettlementLedger.LedgerInsufficientEscrow(carrierId, token, amount, available);
        }
        // reserved + amount <= escrow: it fits.
        b.reserved = uint128(reserved + amount);
        // amount is one period's net, below 2^97.
        s.reservations[c.agreementId][c.period] = ISettlementLedger.Reservation(
            uint128(amount),
            expiresAt,
            side + 1,
            partialSettlement
        );
        emit ISettlementLedger.EscrowReserved(
            c.agreementId,
            c.period,
            carrierId,
            token,
            partialSettlement,
            amount,
            expiresAt
        );
    }

    /// @notice Ends the period's reservation for its settlement (the partial one if `partialSettlement`) and
    /// returns the amount the settlement spends from it; the caller moves it with {moveNet} or {move}. A
    /// partial reservation left unused by the end of the dispute is released instead (returns 0).
    function consume(
        LedgerStorage.Layout storage s,
        PeriodLib.Context memory c,
        ISettlementLedger.PeriodRecord storage p,
        bool partialSettlement
    ) internal returns (uint256) {
        mapping(uint32 period => ISettlementLedger.Reservation) storage held = s.reservations[c.agreementId];
        uint256 amount = held[c.period].amount;
        if (amount == 0) return 0;
        if (held[c.period].partialSettlement != partialSettlement) {
            _release(s, c, p, held[c.period]);
            return 0;
        }
        delete held[c.period];
        return amount;
    }

    /// @notice Settles `netAB` of the period of `c` from its reservation (the partial one if
    /// `partialSettlement`) if it holds one, else from the payer's available balance only: the one way a
    /// single period's settlement moves escrow, whether or not its payer approved.
    function settleReserved(
        LedgerStorage.Layout storage s,
        PeriodLib.Context memory c,
        ISettlementLedger.PeriodRecord storage p,
        bool partialSettlement,
        int256 netAB
    ) internal {
        moveNet(s, c.terms, netAB, consume(s, c, p, partialSettlement));
    }

    // ---------------------------------------------------------------- moves

    /// @notice Moves a settlement's `netAB` in the agreement's token from carrier A's balance to carrier B's
    /// (negative: from B to A). `reserved` is what the settlement reserved for its payer (see {consume}): the
    /// payer spends that plus its available balance, never another period's reservation. A settlement that
    /// holds no reservation passes 0 and spends only the available balance.
    function moveNet(
        LedgerStorage.Layout storage s,
        IAgreementBook.Terms memory terms,
        int256 netAB,
        uint256 reserved
    ) internal {
        (uint256 reservedA, uint256 reservedB) = netAB > 0 ? (reserved, uint256(0)) : (uint256(0), reserved);
        move(s, terms.carrierA, terms.token, -netAB, reservedA);
        move(s, terms.carrierB, terms.token, netAB, reservedB);
    }

    /// @notice Adds `delta` (negative: takes it) to `carrierId`'s `token` balance through settlement, after
    /// ending `reserved` of its reservations for the settlements it pays; reverts with
    /// {ISettlementLedger-LedgerInsufficientEscrow} when what it takes exceeds the available balance.
    function move(
        LedgerStorage.Layout storage s,
        bytes32 carrierId,
        address token,
        int256 delta,
        uint256 reserved
    ) internal {
        if (delta == 0 && reserved == 0) return;
        LedgerStorage.Balance storage b = s.balances[carrierId][token];
        (uint256 balance, uint256 held) = (b.escrow, b.reserved);
        held -= reserved;
        if (delta < 0) {
            uint256 needed = uint256(-delta);
            uint256 available = balance - held;
            if (available < needed)
                revert ISettlementLedger.LedgerInsufficientEscrow(carrierId, token, needed, available);
            balance -= needed;
        } else {
            balance += uint256(delta);
        }
        // held <= balance, both within the deposits' uint128 range (a credit is at most what others hold).
        (b.escrow, b.reserved) = (SafeCast.toUint128(balance), uint128(held));
        if (delta != 0) emit ISettlementLedger.EscrowMoved(carrierId, token, delta);
    }

    // ---------------------------------------------------------------- internals

    /// @dev Ends reservation `r` of the period of `c` unsettled and withdraws its payer's approval with it.
    function _release(
        LedgerStorage.Layout storage s,
        PeriodLib.Context memory c,
        ISettlementLedger.PeriodRecord storage p,
        ISettlementLedger.Reservation memory r
    ) private {
        uint8 side = r.payer - 1;
        bytes32 carrierId = side == 0 ? c.terms.carrierA : c.terms.carrierB;
        delete s.reservations[c.agreementId][c.period];
        s.balances[carrierId][c.terms.token].reserved -= r.amount;
        PeriodLib.clearApproval(p, side, r.partialSettlement);
        emit ISettlementLedger.ReservationReleased(
            c.agreementId,
            c.period,
            carrierId,
            c.terms.token,
            r.partialSettlement,
            r.amount
        );
    }
}
