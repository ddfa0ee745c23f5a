// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {PeriodMath} from "../libraries/PeriodMath.sol";
import {Tolerance} from "../libraries/Tolerance.sol";
import {IAgreementBook} from "../interfaces/IAgreementBook.sol";

/// @notice Exposes the pure libraries to tests.
contract PeriodMathHarness {
    function isValid(uint32 period) external pure returns (bool) {
        return PeriodMath.isValid(period);
    }

    function next(uint32 period) external pure returns (uint32) {
        return PeriodMath.next(period);
    }

    function end(uint32 period) external pure returns (uint256) {
        return PeriodMath.end(period);
    }

    function start(uint32 period) external pure returns (uint256) {
        return PeriodMath.start(period);
    }

    function periodOf(uint256 timestamp) external pure returns (uint32) {
        return PeriodMath.periodOf(timestamp);
    }

    function within(uint256 a, uint256 b, uint256 bps, uint256 absolute) external pure returns (bool) {
        return Tolerance.within(a, b, bps, absolute);
    }

    function agreed(IAgreementBook.ToleranceRule rule, uint256 o, uint256 t) external pure returns (uint256) {
        return Tolerance.agreed(rule, o, t);
    }
}
