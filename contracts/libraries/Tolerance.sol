// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IAgreementBook} from "../interfaces/IAgreementBook.sol";

/// @title Tolerance
/// @notice Pure reconciliation rules: whether two figures for one traffic direction agree within the
/// agreement's tolerance, and which amount then applies.
library Tolerance {
    uint256 internal constant BPS_DENOMINATOR = 10_000;

    /// @notice True when |a - b| <= max(bps * max(a, b) / 10 000, absolute).
    function within(uint256 a, uint256 b, uint256 bps, uint256 absolute) internal pure returns (bool) {
        (uint256 high, uint256 low) = a >= b ? (a, b) : (b, a);
        uint256 relative = (high * bps) / BPS_DENOMINATOR;
        return high - low <= (relative > absolute ? relative : absolute);
    }

    /// @notice The amount a direction settles at when both figures are within tolerance.
    /// @param originating the figure of the party that handed the traffic over (the payer of that direction)
    /// @param terminating the figure of the party that terminated the traffic (the payee of that direction)
    function agreed(
        IAgreementBook.ToleranceRule rule,
        uint256 originating,
        uint256 terminating
    ) internal pure returns (uint256) {
        if (rule == IAgreementBook.ToleranceRule.Terminating) return terminating;
        if (rule == IAgreementBook.ToleranceRule.Originating) return originating;
        return (originating + terminating) / 2;
    }
}
