// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title LedgerDomain
/// @notice SettlementLedger's EIP-712 signing domain, in one place: the name and version the ledger hands to
/// OpenZeppelin's EIP712 and the domain separator a linked module computes for it.
/// @dev A module delegate-called by the ledger computes the separator itself (`address(this)` is the ledger
/// there) rather than being handed it: one argument fewer in the ledger's bytecode, for a keccak more.
library LedgerDomain {
    /// @notice EIP-712 domain name and version of SettlementLedger.
    string internal constant NAME = "InterconnectLedger";
    string internal constant VERSION = "1";

    bytes32 private constant _TYPE_HASH = keccak256(
        "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
    );
    bytes32 private constant _HASHED_NAME = keccak256(bytes(NAME));
    bytes32 private constant _HASHED_VERSION = keccak256(bytes(VERSION));

    /// @notice The domain separator of the ledger at `ledger` on the current chain, as OpenZeppelin's EIP712
    /// computes it for that contract.
    function separator(address ledger) internal view returns (bytes32) {
        return keccak256(abi.encode(_TYPE_HASH, _HASHED_NAME, _HASHED_VERSION, block.chainid, ledger));
    }
}
