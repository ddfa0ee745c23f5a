// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ISettlementLedger} from "../interfaces/ISettlementLedger.sol";
import {ICarrierRegistry} from "../interfaces/ICarrierRegistry.sol";
import {IAgreementBook} from "../interfaces/IAgreementBook.sol";
import {PeriodLib} from "../libraries/PeriodLib.sol";
import {Netting} from "../libraries/Netting.sol";
import {LedgerStorage} from "../libraries/LedgerStorage.sol";

/// @title LedgerEscrow
/// @notice Carriers' escrow balances per token: deposits, withdrawals to the treasury, the moves of
/// settlement and the netted settlement of many periods. The ledger's token balance always equals the sum
/// of the balances.
/// @dev The balance primitives ({deposit}, {withdraw}, {move}, {moveNet}) are internal, compiled into the
/// ledger and into the modules that settle: settlement moves escrow on every path, and SafeERC20's error
/// belongs to the ledger's ABI. {settleBatch} is external: the library is deployed once and linked into
/// SettlementLedger, which delegate-calls it on its own storage (EIP-170). `balances` is the ledger's map
/// carrierId → token → amount; callers guard deposits and withdrawals against reentrancy.
library LedgerEscrow {
    using SafeERC20 for IERC20;

    /// @notice {ISettlementLedger-settleBatch}: settles every Approved period of `keys` in `token`, then moves
    /// only each carrier's net position. `s` and `book` are the ledger's.
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
            int256 netAB = PeriodLib.settle(p, d, c);
            count = Netting.add(positions, count, c.terms.carrierA, -netAB);
            count = Netting.add(positions, count, c.terms.carrierB, netAB);
        }
        for (uint256 i = 0; i < count; ++i) move(s.escrow, positions[i].carrierId, token, positions[i].delta);
    }

    /// @notice {ISettlementLedger-settle}: one period, Approved or binding past its approval deadline.
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
        moveNet(s.escrow, c.terms, PeriodLib.settle(p, d, c));
    }

    /// @notice Credits `carrierId` with what actually arrives of `amount` of `token` from `msg.sender`.
    function deposit(
        mapping(bytes32 carrierId => mapping(address token => uint256)) storage balances,
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
        balances[carrierId][token] += received;
        emit ISettlementLedger.Deposited(carrierId, token, msg.sender, received);
    }

    /// @notice Sends `amount` of `carrierId`'s free `token` balance to its treasury (`msg.sender` must be
    /// one of its officers).
    function withdraw(
        mapping(bytes32 carrierId => mapping(address token => uint256)) storage balances,
        ICarrierRegistry registry,
        bytes32 carrierId,
        address token,
        uint256 amount
    ) internal {
        if (!registry.isOfficer(carrierId, msg.sender)) {
            revert ISettlementLedger.LedgerNotOfficer(carrierId, msg.sender);
        }
        if (amount == 0) revert ISettlementLedger.LedgerZeroAmount();
        uint256 available = balances[carrierId][token];
        if (available < amount) {
            revert ISettlementLedger.LedgerInsufficientEscrow(carrierId, token, amount, available);
        }
        // unchecked: amount <= available was checked just above.
        unchecked {
            balances[carrierId][token] = available - amount;
        }
        address treasury = registry.treasuryOf(carrierId);
        emit ISettlementLedger.Withdrawn(carrierId, token, treasury, amount);
        IERC20(token).safeTransfer(treasury, amount);
    }

    /// @notice Moves a settlement's `netAB` in the agreement's token from carrier A's balance to carrier B's
    /// (negative: from B to A).
    function moveNet(
        mapping(bytes32 carrierId => mapping(address token => uint256)) storage balances,
        IAgreementBook.Terms memory terms,
        int256 netAB
    ) internal {
        move(balances, terms.carrierA, terms.token, -netAB);
        move(balances, terms.carrierB, terms.token, netAB);
    }

    /// @notice Adds `delta` (negative: takes it) to `carrierId`'s `token` balance through settlement;
    /// reverts with {ISettlementLedger-LedgerInsufficientEscrow} when the balance is short.
    function move(
        mapping(bytes32 carrierId => mapping(address token => uint256)) storage balances,
        bytes32 carrierId,
        address token,
        int256 delta
    ) internal {
        if (delta == 0) return;
        uint256 balance = balances[carrierId][token];
        if (delta < 0) {
            uint256 needed = uint256(-delta);
            if (balance < needed)
                revert ISettlementLedger.LedgerInsufficientEscrow(carrierId, token, needed, balance);
            // unchecked: needed <= balance was checked just above.
            unchecked {
                balances[carrierId][token] = balance - needed;
            }
        } else {
            balances[carrierId][token] = balance + uint256(delta);
        }
        emit ISettlementLedger.EscrowMoved(carrierId, token, delta);
    }
}
