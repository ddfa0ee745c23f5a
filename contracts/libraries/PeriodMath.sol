// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title PeriodMath
/// @notice Calendar arithmetic for settlement periods written as YYYYMM (e.g. 202610), in UTC.
/// @dev Uses Howard Hinnant's days-from-civil / civil-from-days algorithms; valid for years 1970..9999.
library PeriodMath {
    /// @notice The period is not a YYYYMM value with 1970 <= YYYY <= 9999 and 1 <= MM <= 12.
    error PeriodMathInvalidPeriod(uint32 period);

    uint256 private constant _SECONDS_PER_DAY = 86_400;
    uint256 private constant _UNIX_EPOCH_OFFSET = 719_468;

    /// @notice Whether `period` is a well-formed YYYYMM value.
    function isValid(uint32 period) internal pure returns (bool) {
        uint32 year = period / 100;
        uint32 month = period % 100;
        return year >= 1970 && year <= 9999 && month >= 1 && month <= 12;
    }

    /// @notice Reverts with {PeriodMathInvalidPeriod} unless `period` is well-formed.
    function requireValid(uint32 period) internal pure {
        if (!isValid(period)) revert PeriodMathInvalidPeriod(period);
    }

    /// @notice The period after `period` (December rolls over to January of the next year).
    function next(uint32 period) internal pure returns (uint32) {
        return period % 100 == 12 ? (period / 100 + 1) * 100 + 1 : period + 1;
    }

    /// @notice First second (unix time, UTC) of `period`.
    function start(uint32 period) internal pure returns (uint256) {
        return daysFromCivil(period / 100, period % 100, 1) * _SECONDS_PER_DAY;
    }

    /// @notice First second of the month after `period`: the moment the period has ended.
    function end(uint32 period) internal pure returns (uint256) {
        return start(next(period));
    }

    /// @notice The YYYYMM period containing unix time `timestamp`.
    function periodOf(uint256 timestamp) internal pure returns (uint32) {
        uint256 z = timestamp / _SECONDS_PER_DAY + _UNIX_EPOCH_OFFSET;
        uint256 era = z / 146_097;
        uint256 doe = z - era * 146_097;
        uint256 yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        uint256 doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        uint256 mp = (5 * doy + 2) / 153;
        uint256 month = mp < 10 ? mp + 3 : mp - 9;
        uint256 year = yoe + era * 400 + (month <= 2 ? 1 : 0);
        return uint32(year * 100 + month);
    }

    /// @notice Days since 1970-01-01 of the civil date `year`-`month`-`day` (year >= 1970).
    function daysFromCivil(uint256 year, uint256 month, uint256 day) internal pure returns (uint256) {
        uint256 y = month <= 2 ? year - 1 : year;
        uint256 era = y / 400;
        uint256 yoe = y - era * 400;
        uint256 doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
        uint256 doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return era * 146_097 + doe - _UNIX_EPOCH_OFFSET;
    }
}
