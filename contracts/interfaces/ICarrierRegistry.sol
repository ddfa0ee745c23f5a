// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title ICarrierRegistry
/// @notice The consortium's membership book: carriers with their node addresses, settlement officers and
/// approval thresholds, the arbiter and regulator roles, and the list of settlement tokens.
/// @dev The consortium admin registers carriers; afterwards only a carrier's own officers, M of N by EIP-712
/// signatures, change its officer set, threshold and treasury ({updateOfficers}) and its nodes ({updateNodes}):
/// the admin has no power over a registered carrier.
interface ICarrierRegistry {
    /// @notice A change of a carrier's officer set, signed by at least `threshold` of its current officers.
    /// @param carrierId the carrier being changed
    /// @param add officers to add
    /// @param remove officers to remove
    /// @param threshold the new approval threshold (M of N)
    /// @param treasury the new treasury (where escrow withdrawals go); address(0) keeps the current one
    /// @param nonce must equal {officerNonce}; prevents replay
    /// @param deadline last second at which the signatures are valid
    struct OfficerUpdate {
        bytes32 carrierId;
        address[] add;
        address[] remove;
        uint8 threshold;
        address treasury;
        uint64 nonce;
        uint64 deadline;
    }

    /// @notice A change of a carrier's node addresses, signed by at least `threshold` of its current officers.
    /// @param add node addresses to enable for the carrier
    /// @param remove node addresses to disable
    /// @param nonce must equal {officerNonce} (shared with officer updates); prevents replay
    /// @param deadline last second at which the signatures are valid
    struct NodeUpdate {
        bytes32 carrierId;
        address[] add;
        address[] remove;
        uint64 nonce;
        uint64 deadline;
    }

    /// @notice A carrier was registered by the consortium admin.
    event CarrierRegistered(bytes32 indexed carrierId, address treasury);
    /// @notice `officer` became an officer of `carrierId` in bitmap slot `slot`.
    event OfficerAdded(bytes32 indexed carrierId, address indexed officer, uint8 slot);
    /// @notice `officer` stopped being an officer of `carrierId`.
    event OfficerRemoved(bytes32 indexed carrierId, address indexed officer, uint8 slot);
    /// @notice The approval threshold of `carrierId` changed.
    event ThresholdChanged(bytes32 indexed carrierId, uint8 threshold);
    /// @notice The treasury of `carrierId` changed.
    event TreasuryChanged(bytes32 indexed carrierId, address treasury);
    /// @notice An officer update with nonce `nonce` was applied on the signatures of `signers`.
    event OfficersUpdated(bytes32 indexed carrierId, uint64 nonce, address[] signers);
    /// @notice A node update with nonce `nonce` was applied on the signatures of `signers`.
    event NodesUpdated(bytes32 indexed carrierId, uint64 nonce, address[] signers);
    /// @notice `node` was enabled or disabled as a node of `carrierId`.
    event NodeSet(bytes32 indexed carrierId, address indexed node, bool enabled);
    /// @notice `token` was listed or delisted as a settlement token.
    event TokenListed(address indexed token, bool listed);

    /// @notice `carrierId` is already registered.
    error RegistryCarrierExists(bytes32 carrierId);
    /// @notice `carrierId` is not registered.
    error RegistryUnknownCarrier(bytes32 carrierId);
    /// @notice `account` is not a current officer of `carrierId`.
    error RegistryNotOfficer(bytes32 carrierId, address account);
    /// @notice `account` is already an officer of `carrierId`.
    error RegistryOfficerExists(bytes32 carrierId, address account);
    /// @notice `carrierId` has used all 256 officer slots.
    error RegistryOfficerLimit(bytes32 carrierId);
    /// @notice `threshold` is 0 or larger than the `officerCount` officers.
    error RegistryInvalidThreshold(bytes32 carrierId, uint256 threshold, uint256 officerCount);
    /// @notice `node` already serves carrier `carrierId` (a node serves one carrier).
    error RegistryNodeTaken(address node, bytes32 carrierId);
    /// @notice The signed officer update expired at `deadline`.
    error RegistryExpired(uint64 deadline);
    /// @notice The officer update carries `given` but the carrier's nonce is `expected`.
    error RegistryBadNonce(bytes32 carrierId, uint64 expected, uint64 given);
    /// @notice Only `count` distinct current officers signed; `threshold` are needed.
    error RegistryInsufficientSignatures(bytes32 carrierId, uint256 count, uint256 threshold);
    /// @notice A zero address or zero id was given where one is required.
    error RegistryZeroValue();

    /// @notice Registers a carrier (consortium admin only).
    function registerCarrier(
        bytes32 carrierId,
        address treasury,
        address[] calldata officers,
        uint8 threshold,
        address[] calldata nodes
    ) external;

    /// @notice Applies a node update signed by at least the current threshold of current officers (ECDSA, or
    /// ERC-1271 for a contract officer, encoded as {OfficerSignatures} describes).
    function updateNodes(NodeUpdate calldata update, bytes[] calldata signatures) external;

    /// @notice EIP-712 digest the officers sign for `update`.
    function nodeUpdateDigest(NodeUpdate calldata update) external view returns (bytes32);

    /// @notice Applies an officer update signed by at least the current threshold of current officers (ECDSA,
    /// or ERC-1271 for a contract officer, encoded as {OfficerSignatures} describes).
    function updateOfficers(OfficerUpdate calldata update, bytes[] calldata signatures) external;

    /// @notice Lists or delists a settlement token (consortium admin only).
    function setToken(address token, bool listed) external;

    /// @notice EIP-712 digest the officers sign for `update`.
    function officerUpdateDigest(OfficerUpdate calldata update) external view returns (bytes32);

    /// @notice Whether `carrierId` is registered.
    function isRegistered(bytes32 carrierId) external view returns (bool);

    /// @notice The carrier a node address serves (zero when none).
    function carrierOfNode(address node) external view returns (bytes32);

    /// @notice Whether `account` is a current officer of `carrierId`.
    function isOfficer(bytes32 carrierId, address account) external view returns (bool);

    /// @notice The current officers of `carrierId`.
    function officersOf(bytes32 carrierId) external view returns (address[] memory);

    /// @notice Approval threshold of `carrierId`.
    function thresholdOf(bytes32 carrierId) external view returns (uint8);

    /// @notice Treasury address of `carrierId`.
    function treasuryOf(bytes32 carrierId) external view returns (address);

    /// @notice Next nonce for {updateOfficers} of `carrierId`.
    function officerNonce(bytes32 carrierId) external view returns (uint64);

    /// @notice Bitmap slots of `accounts` as officers of `carrierId`, the bitmap of all current officers,
    /// the threshold and the officer nonce ({officerNonce}: it changes with every officer or node update, so
    /// approvals counted under an older one are not counted against the current set). Reverts with
    /// {RegistryNotOfficer} naming the first account that is not one.
    function officerSlots(
        bytes32 carrierId,
        address[] calldata accounts
    ) external view returns (uint8[] memory slots, uint256 activeMask, uint8 threshold, uint64 nonce);

    /// @notice Whether `token` is a listed settlement token.
    function isTokenListed(address token) external view returns (bool);

    /// @notice Whether `account` may be named arbiter of an agreement (holds ARBITER_ROLE or REGULATOR_ROLE).
    function canArbitrate(address account) external view returns (bool);

    /// @notice The officer slots of `accounts` as a bitmap (bit i = slot i; an account given twice sets its bit
    /// once) and the threshold of `carrierId` now; reverts with {RegistryNotOfficer} naming the first account that
    /// is not a current officer. {officerSlots} in one word and without the active mask, for a step that counts
    /// officers' signatures (the ledger's fast path).
    function officerBitmap(
        bytes32 carrierId,
        address[] calldata accounts
    ) external view returns (uint256 bitmap, uint8 threshold);
}
