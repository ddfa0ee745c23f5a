// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

// solhint-disable-next-line max-line-length
import {AccessControlDefaultAdminRules} from "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ICarrierRegistry} from "./interfaces/ICarrierRegistry.sol";
import {Bits} from "./libraries/Bits.sol";
import {OfficerSignatures} from "./libraries/OfficerSignatures.sol";

/// @title CarrierRegistry
/// @notice Carriers, their nodes and officers, arbiter/regulator roles and listed tokens.
contract CarrierRegistry is ICarrierRegistry, AccessControlDefaultAdminRules, EIP712 {
    /// @notice May be named arbiter of agreements and rule on their escalated disputes.
    bytes32 public constant ARBITER_ROLE = keccak256("ARBITER_ROLE");
    /// @notice Auditors; reads are public, the only right this role adds is to be named arbiter.
    bytes32 public constant REGULATOR_ROLE = keccak256("REGULATOR_ROLE");

    bytes32 private constant _OFFICER_UPDATE_TYPEHASH = keccak256(
        "OfficerUpdate(bytes32 carrierId,address[] add,address[] remove,uint8 threshold,"
        "address treasury,uint64 nonce,uint64 deadline)"
    );
    bytes32 private constant _NODE_UPDATE_TYPEHASH = keccak256(
        "NodeUpdate(bytes32 carrierId,address[] add,address[] remove,uint64 nonce,uint64 deadline)"
    );
    uint256 private constant _MAX_SLOTS = 256;

    struct Carrier {
        bool registered;
        uint8 threshold;
        uint16 nextSlot;
        uint64 nonce;
        address treasury;
        uint256 activeMask;
    }

    mapping(bytes32 carrierId => Carrier) private _carriers;
    /// @dev slot + 1 of a current officer (0 = not an officer); slots are never reused.
    mapping(bytes32 carrierId => mapping(address account => uint16)) private _slotOf;
    mapping(bytes32 carrierId => mapping(uint256 slot => address)) private _officerAt;
    mapping(address node => bytes32 carrierId) private _nodeCarrier;
    mapping(address token => bool) private _listed;

    /// @param admin initial consortium admin (e.g. a multisig)
    /// @param adminDelay delay for transferring the admin role (AccessControlDefaultAdminRules)
    constructor(
        address admin,
        uint48 adminDelay
    ) AccessControlDefaultAdminRules(adminDelay, admin) EIP712("CarrierRegistry", "1") {}

    /// @inheritdoc ICarrierRegistry
    function registerCarrier(
        bytes32 carrierId,
        address treasury,
        address[] calldata officers,
        uint8 threshold,
        address[] calldata nodes
    ) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (carrierId == bytes32(0) || treasury == address(0)) revert RegistryZeroValue();
        Carrier storage c = _carriers[carrierId];
        if (c.registered) revert RegistryCarrierExists(carrierId);
        c.registered = true;
        c.treasury = treasury;
        emit CarrierRegistered(carrierId, treasury);
        emit TreasuryChanged(carrierId, treasury);
        for (uint256 i = 0; i < officers.length; ++i) _addOfficer(carrierId, c, officers[i]);
        _setThreshold(carrierId, c, threshold);
        for (uint256 i = 0; i < nodes.length; ++i) _setNode(carrierId, nodes[i], true);
    }

    /// @inheritdoc ICarrierRegistry
    function updateNodes(NodeUpdate calldata update, bytes[] calldata signatures) external {
        bytes32 carrierId = update.carrierId;
        address[] memory signers = _consume(
            carrierId,
            update.nonce,
            update.deadline,
            _hashTypedDataV4(_nodeStructHash(update)),
            signatures
        );
        for (uint256 i = 0; i < update.remove.length; ++i) _setNode(carrierId, update.remove[i], false);
        for (uint256 i = 0; i < update.add.length; ++i) _setNode(carrierId, update.add[i], true);
        emit NodesUpdated(carrierId, update.nonce, signers);
    }

    /// @inheritdoc ICarrierRegistry
    function updateOfficers(OfficerUpdate calldata update, bytes[] calldata signatures) external {
        bytes32 carrierId = update.carrierId;
        address[] memory signers = _consume(
            carrierId,
            update.nonce,
            update.deadline,
            _hashTypedDataV4(_structHash(update)),
            signatures
        );
        Carrier storage c = _carriers[carrierId];
        for (uint256 i = 0; i < update.remove.length; ++i) _removeOfficer(carrierId, c, update.remove[i]);
        for (uint256 i = 0; i < update.add.length; ++i) _addOfficer(carrierId, c, update.add[i]);
        _setThreshold(carrierId, c, update.threshold);
        if (update.treasury != address(0) && update.treasury != c.treasury) {
            c.treasury = update.treasury;
            emit TreasuryChanged(carrierId, update.treasury);
        }
        emit OfficersUpdated(carrierId, update.nonce, signers);
    }

    /// @inheritdoc ICarrierRegistry
    function nodeUpdateDigest(NodeUpdate calldata update) external view returns (bytes32) {
        return _hashTypedDataV4(_nodeStructHash(update));
    }

    /// @inheritdoc ICarrierRegistry
    function setToken(address token, bool listed) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (token == address(0)) revert RegistryZeroValue();
        _listed[token] = listed;
        emit TokenListed(token, listed);
    }

    /// @inheritdoc ICarrierRegistry
    function officerUpdateDigest(OfficerUpdate calldata update) external view returns (bytes32) {
        return _hashTypedDataV4(_structHash(update));
    }

    /// @inheritdoc ICarrierRegistry
    function isRegistered(bytes32 carrierId) external view returns (bool) {
        return _carriers[carrierId].registered;
    }

    /// @inheritdoc ICarrierRegistry
    function carrierOfNode(address node) external view returns (bytes32) {
        return _nodeCarrier[node];
    }

    /// @inheritdoc ICarrierRegistry
    function isOfficer(bytes32 carrierId, address account) external view returns (bool) {
        return _slotOf[carrierId][account] != 0;
    }

    /// @inheritdoc ICarrierRegistry
    function officersOf(bytes32 carrierId) external view returns (address[] memory officers) {
        Carrier storage c = _carriers[carrierId];
        officers = new address[](Bits.popcount(c.activeMask));
        uint256 n;
        for (uint256 slot = 0; slot < c.nextSlot; ++slot) {
            if (c.activeMask & (uint256(1) << slot) != 0) {
                officers[n] = _officerAt[carrierId][slot];
                ++n;
            }
        }
    }

    /// @inheritdoc ICarrierRegistry
    function thresholdOf(bytes32 carrierId) external view returns (uint8) {
        return _carriers[carrierId].threshold;
    }

    /// @inheritdoc ICarrierRegistry
    function treasuryOf(bytes32 carrierId) external view returns (address) {
        return _carriers[carrierId].treasury;
    }

    /// @inheritdoc ICarrierRegistry
    function officerNonce(bytes32 carrierId) external view returns (uint64) {
        return _carriers[carrierId].nonce;
    }

    /// @inheritdoc ICarrierRegistry
    function officerSlots(
        bytes32 carrierId,
        address[] calldata accounts
    ) external view returns (uint8[] memory slots, uint256 activeMask, uint8 threshold, uint64 nonce) {
        slots = new uint8[](accounts.length);
        for (uint256 i = 0; i < accounts.length; ++i) {
            uint16 slot = _slotOf[carrierId][accounts[i]];
            if (slot == 0) revert RegistryNotOfficer(carrierId, accounts[i]);
            slots[i] = uint8(slot - 1);
        }
        Carrier storage c = _carriers[carrierId];
        return (slots, c.activeMask, c.threshold, c.nonce);
    }

    /// @inheritdoc ICarrierRegistry
    function isTokenListed(address token) external view returns (bool) {
        return _listed[token];
    }

    /// @inheritdoc ICarrierRegistry
    function canArbitrate(address account) external view returns (bool) {
        return hasRole(ARBITER_ROLE, account) || hasRole(REGULATOR_ROLE, account);
    }

    /// @inheritdoc ICarrierRegistry
    function officerBitmap(
        bytes32 carrierId,
        address[] calldata accounts
    ) external view returns (uint256 bitmap, uint8 threshold) {
        for (uint256 i = 0; i < accounts.length; ++i) {
            uint16 slot = _slotOf[carrierId][accounts[i]];
            if (slot == 0) revert RegistryNotOfficer(carrierId, accounts[i]);
            bitmap |= uint256(1) << (slot - 1);
        }
        threshold = _carriers[carrierId].threshold;
    }

    function _addOfficer(bytes32 carrierId, Carrier storage c, address officer) private {
        if (officer == address(0)) revert RegistryZeroValue();
        if (_slotOf[carrierId][officer] != 0) revert RegistryOfficerExists(carrierId, officer);
        uint256 slot = c.nextSlot;
        if (slot >= _MAX_SLOTS) revert RegistryOfficerLimit(carrierId);
        c.nextSlot = uint16(slot + 1);
        c.activeMask |= uint256(1) << slot;
        _slotOf[carrierId][officer] = uint16(slot + 1);
        _officerAt[carrierId][slot] = officer;
        emit OfficerAdded(carrierId, officer, uint8(slot));
    }

    function _removeOfficer(bytes32 carrierId, Carrier storage c, address officer) private {
        uint16 slot = _slotOf[carrierId][officer];
        if (slot == 0) revert RegistryNotOfficer(carrierId, officer);
        delete _slotOf[carrierId][officer];
        c.activeMask &= ~(uint256(1) << (slot - 1));
        emit OfficerRemoved(carrierId, officer, uint8(slot - 1));
    }

    function _setThreshold(bytes32 carrierId, Carrier storage c, uint8 threshold) private {
        uint256 officers = Bits.popcount(c.activeMask);
        if (threshold == 0 || threshold > officers) {
            revert RegistryInvalidThreshold(carrierId, threshold, officers);
        }
        if (threshold != c.threshold) {
            c.threshold = threshold;
            emit ThresholdChanged(carrierId, threshold);
        }
    }

    function _setNode(bytes32 carrierId, address node, bool enabled) private {
        if (node == address(0)) revert RegistryZeroValue();
        bytes32 current = _nodeCarrier[node];
        if (enabled) {
            if (current != bytes32(0) && current != carrierId) revert RegistryNodeTaken(node, current);
            _nodeCarrier[node] = carrierId;
        } else {
            if (current != carrierId) revert RegistryNodeTaken(node, current);
            delete _nodeCarrier[node];
        }
        emit NodeSet(carrierId, node, enabled);
    }

    /// @dev Checks an update's deadline, nonce and the threshold of distinct current officers who signed
    /// `digest` (ECDSA or ERC-1271, see {OfficerSignatures}), then uses the nonce up. Returns the signers.
    function _consume(
        bytes32 carrierId,
        uint64 nonce,
        uint64 deadline,
        bytes32 digest,
        bytes[] calldata signatures
    ) private returns (address[] memory signers) {
        Carrier storage c = _carriers[carrierId];
        if (!c.registered) revert RegistryUnknownCarrier(carrierId);
        if (deadline < block.timestamp) revert RegistryExpired(deadline);
        if (nonce != c.nonce) revert RegistryBadNonce(carrierId, c.nonce, nonce);
        signers = new address[](signatures.length);
        uint256 seen;
        for (uint256 i = 0; i < signatures.length; ++i) {
            address signer = OfficerSignatures.signer(digest, signatures[i]);
            uint16 slot = _slotOf[carrierId][signer];
            if (slot == 0) revert RegistryNotOfficer(carrierId, signer);
            seen |= uint256(1) << (slot - 1);
            signers[i] = signer;
        }
        uint256 count = Bits.popcount(seen);
        if (count < c.threshold) revert RegistryInsufficientSignatures(carrierId, count, c.threshold);
        ++c.nonce;
    }

    function _nodeStructHash(NodeUpdate calldata u) private pure returns (bytes32) {
        return
            keccak256(
                abi.encode(
                    _NODE_UPDATE_TYPEHASH,
                    u.carrierId,
                    keccak256(abi.encodePacked(u.add)),
                    keccak256(abi.encodePacked(u.remove)),
                    u.nonce,
                    u.deadline
                )
            );
    }

    function _structHash(OfficerUpdate calldata u) private pure returns (bytes32) {
        return
            keccak256(
                abi.encode(
                    _OFFICER_UPDATE_TYPEHASH,
                    u.carrierId,
                    keccak256(abi.encodePacked(u.add)),
                    keccak256(abi.encodePacked(u.remove)),
                    u.threshold,
                    u.treasury,
                    u.nonce,
                    u.deadline
                )
            );
    }
}
