// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title Bits
/// @notice Bitmap helpers for officer approvals (bit i = officer slot i of a carrier).
library Bits {
    /// @notice Number of set bits in `x`.
    function popcount(uint256 x) internal pure returns (uint256 count) {
        // unchecked: x &= x - 1 only runs while x != 0, so it cannot underflow; count <= 256.
        unchecked {
            while (x != 0) {
                x &= x - 1;
                ++count;
            }
        }
    }
}
