// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title Netting
/// @notice In-memory multilateral netting: accumulates signed escrow deltas per carrier so that a batch
/// of settlements moves only each carrier's net position.
library Netting {
    /// @notice A carrier's accumulated net position (negative: it pays; positive: it receives).
    struct Position {
        bytes32 carrierId;
        int256 delta;
    }

    /// @notice Adds `delta` to `carrierId`'s position among the first `count` entries of `positions`,
    /// appending a new entry when the carrier is not there yet. Returns the new entry count.
    /// @dev Linear search: a batch touches a handful of carriers; `positions` must have spare capacity.
    function add(
        Position[] memory positions,
        uint256 count,
        bytes32 carrierId,
        int256 delta
    ) internal pure returns (uint256) {
        for (uint256 i = 0; i < count; ++i) {
            if (positions[i].carrierId == carrierId) {
                positions[i].delta += delta;
                return count;
            }
        }
        positions[count] = Position(carrierId, delta);
        return count + 1;
    }
}
