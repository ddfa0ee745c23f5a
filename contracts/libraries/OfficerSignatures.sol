// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";

/// @title OfficerSignatures
/// @notice Who signed an EIP-712 digest, for every place officers sign (the ledger's approvals, the registry's
/// officer and node updates, the co-signed settlement): an officer is an externally owned account signing
/// with ECDSA, or a contract wallet such as a Safe that validates signatures by ERC-1271.
/// @dev One encoding tells the two apart (docs/CONTRACTS.md, node/src/protocol/signatures.ts):
/// - an ECDSA signature is the usual 65 bytes r ‖ s ‖ v (shorter ones revert with ECDSA's error);
/// - a contract officer's signature is `abi.encode(address officer, bytes signature)` (at least 96 bytes), and
///   `officer.isValidSignature(digest, signature)` must return the ERC-1271 magic value.
/// The address returned is the signer; callers still check that it is an officer of the right carrier, so a
/// wallet that validates anything counts for no carrier it is not an officer of.
library OfficerSignatures {
    /// @dev Shortest contract-officer encoding: the address, the offset and the length of empty bytes.
    uint256 private constant _CONTRACT_SIGNATURE_MIN_LENGTH = 96;

    /// @notice The contract officer `officer` did not validate its signature of the digest (ERC-1271).
    error OfficerSignatureInvalid(address officer);

    /// @notice The officer who signed `digest` with `signature` (see the encoding above).
    function signer(bytes32 digest, bytes calldata signature) internal view returns (address) {
        if (signature.length < _CONTRACT_SIGNATURE_MIN_LENGTH)
            return ECDSA.recoverCalldata(digest, signature);
        (address officer, bytes memory inner) = abi.decode(signature, (address, bytes));
        if (!SignatureChecker.isValidERC1271SignatureNow(officer, digest, inner)) {
            revert OfficerSignatureInvalid(officer);
        }
        return officer;
    }

    /// @notice The signers of `digest`, one per signature, in order.
    function signers(
        bytes32 digest,
        bytes[] calldata signatures
    ) internal view returns (address[] memory out) {
        out = new address[](signatures.length);
        for (uint256 i = 0; i < signatures.length; ++i) out[i] = signer(digest, signatures[i]);
    }
}
