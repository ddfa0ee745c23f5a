// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title Netting
/// @notice In-memory multilateral netting: accumulates signed escrow deltas per carrier so that a batch
/// of settlements moves only each carrier's net position.
library Netting {
    /// @notice A carrier's accumulated net position (negative: it pays; positive: it receives) and the
    /// reservations of the settlements it pays in the batch, which its position may spend.
    struct Position {
        bytes32 carrierId;
        int256 delta;
        uint256 reserved;
    }

    /// @notice Adds `delta` and `reserved` to `carrierId`'s position among the first `count` entries of
    /// `positions`, appending a new entry when the carrier is not there yet. Returns the new entry count.
    /// @dev Linear search: a batch touches a handful of carriers; `positions` must have spare capacity.
    function add(
        Position[] memory positions,
        uint256 count,
        bytes32 carrierId,
        int256 delta,
        uint256 reserved
    ) internal pure returns (uint256) {
        for (uint256 i = 0; i < count; ++i) {
            Position memory position = positions[i];
            if (position.carrierId == carrierId) {
                position.delta += delta;
                position.reserved += reserved;
                return count;
            }
        }
        positions[count] = Position(carrierId, delta, reserved);
        return count + 1;
    }
}
