// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

/// @title ERC1271WalletMock
/// @notice A contract wallet for tests (a stand-in for a Safe as officer): a signature is valid when its owner
/// signed the digest with ECDSA; with `acceptAll` every signature is valid, a wallet that vouches for anything.
contract ERC1271WalletMock is IERC1271 {
    /// @notice The key whose ECDSA signatures this wallet validates.
    address public immutable owner;
    /// @notice Whether every signature is valid.
    bool public immutable acceptAll;

    constructor(address owner_, bool acceptAll_) {
        owner = owner_;
        acceptAll = acceptAll_;
    }

    /// @inheritdoc IERC1271
    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4) {
        if (acceptAll) return IERC1271.isValidSignature.selector;
        (address recovered, ECDSA.RecoverError err, ) = ECDSA.tryRecoverCalldata(hash, signature);
        bool valid = err == ECDSA.RecoverError.NoError && recovered == owner;
        return valid ? IERC1271.isValidSignature.selector : bytes4(0xffffffff);
    }
}
