// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IAgreementBook} from "./interfaces/IAgreementBook.sol";
import {ICarrierRegistry} from "./interfaces/ICarrierRegistry.sol";
import {PeriodMath} from "./libraries/PeriodMath.sol";
import {Bits} from "./libraries/Bits.sol";

/// @title AgreementBook
/// @notice Versioned bilateral agreements between registered carriers.
contract AgreementBook is IAgreementBook {
    /// @notice Reasons reported by {BookInvalidTerms}.
    uint8 public constant INVALID_CARRIERS = 1;
    uint8 public constant INVALID_TOKEN = 2;
    uint8 public constant INVALID_ARBITER = 3;
    uint8 public constant INVALID_TOLERANCE = 4;
    uint8 public constant INVALID_WINDOWS = 5;
    uint8 public constant INVALID_PERIOD = 6;
    uint8 public constant INVALID_PARTIES = 7;

    /// @notice How long a proposal can gather approvals: a proposal nobody acted on does not wait for years.
    uint40 public constant PROPOSAL_LIFETIME = 30 days;

    ICarrierRegistry private immutable _registry;

    mapping(bytes32 agreementId => Terms[]) private _versions;
    mapping(bytes32 agreementId => string[]) private _cids;
    mapping(bytes32 proposalId => Proposal) private _proposals;
    /// @dev The officer nonce each side's approvals of a proposal were gathered under (index 0: carrier A):
    /// approvals from before an officer, threshold or node update no longer count (I-1).
    mapping(bytes32 proposalId => uint64[2]) private _approvalNonces;
    uint256 private _nonce;

    constructor(ICarrierRegistry registry) {
        _registry = registry;
    }

    /// @inheritdoc IAgreementBook
    function propose(
        bytes32 agreementId,
        bytes32 proposerCarrier,
        Terms calldata terms,
        string calldata termsCid
    ) external returns (bytes32 id, bytes32 proposalId) {
        _validate(terms);
        uint256 nonce = ++_nonce;
        if (agreementId == bytes32(0)) {
            id = keccak256(abi.encode(block.chainid, address(this), terms.carrierA, terms.carrierB, nonce));
        } else {
            Terms[] storage versions = _versions[agreementId];
            if (versions.length == 0) revert BookNoVersion(agreementId, terms.effectiveFrom);
            Terms storage first = versions[0];
            if (first.carrierA != terms.carrierA || first.carrierB != terms.carrierB) {
                revert BookInvalidTerms(INVALID_PARTIES);
            }
            id = agreementId;
        }
        if (proposerCarrier != terms.carrierA && proposerCarrier != terms.carrierB) {
            revert BookNotParty(id, proposerCarrier);
        }
        proposalId = keccak256(abi.encode(id, nonce));
        Proposal storage p = _proposals[proposalId];
        p.agreementId = id;
        p.proposedAt = uint40(block.timestamp);
        p.terms = terms;
        p.termsCid = termsCid;
        emit AgreementProposed(id, proposalId, proposerCarrier, terms, termsCid);
        _approve(proposalId, p, proposerCarrier);
    }

    /// @inheritdoc IAgreementBook
    function approveProposal(bytes32 proposalId, bytes32 carrierId) external {
        Proposal storage p = _open(proposalId, carrierId);
        _approve(proposalId, p, carrierId);
    }

    /// @inheritdoc IAgreementBook
    function cancelProposal(bytes32 proposalId, bytes32 carrierId) external {
        Proposal storage p = _open(proposalId, carrierId);
        if (!_registry.isOfficer(carrierId, msg.sender)) revert BookNotOfficer(carrierId, msg.sender);
        p.cancelled = true;
        emit ProposalCancelled(proposalId, carrierId, msg.sender);
    }

    /// @dev A proposal still gathering approvals, and `carrierId` one of its parties.
    function _open(bytes32 proposalId, bytes32 carrierId) private view returns (Proposal storage p) {
        p = _proposals[proposalId];
        if (p.proposedAt == 0 || p.active) revert BookUnknownProposal(proposalId);
        uint256 expiresAt = uint256(p.proposedAt) + PROPOSAL_LIFETIME;
        if (p.cancelled || block.timestamp > expiresAt) {
            revert BookProposalClosed(proposalId, p.cancelled ? 0 : expiresAt);
        }
        if (carrierId != p.terms.carrierA && carrierId != p.terms.carrierB) {
            revert BookNotParty(p.agreementId, carrierId);
        }
    }

    /// @inheritdoc IAgreementBook
    function termsAt(bytes32 agreementId, uint32 period) external view returns (Terms memory, uint32) {
        Terms[] storage versions = _versions[agreementId];
        for (uint256 i = versions.length; i > 0; --i) {
            if (versions[i - 1].effectiveFrom <= period) return (versions[i - 1], uint32(i - 1));
        }
        revert BookNoVersion(agreementId, period);
    }

    /// @inheritdoc IAgreementBook
    function ledgerTermsAt(bytes32 agreementId, uint32 period) external view returns (Terms memory) {
        Terms[] storage versions = _versions[agreementId];
        for (uint256 i = versions.length; i > 0; --i) {
            Terms storage v = versions[i - 1];
            if (v.effectiveFrom <= period) {
                return
                    Terms(
                        v.carrierA,
                        v.carrierB,
                        v.token,
                        v.toleranceBps,
                        v.rule,
                        v.effectiveFrom,
                        v.arbiter,
                        v.toleranceAbs,
                        v.windows,
                        bytes32(0)
                    );
            }
        }
        revert BookNoVersion(agreementId, period);
    }

    /// @inheritdoc IAgreementBook
    function settlementTermsAt(
        bytes32 agreementId,
        uint32 period
    ) external view returns (SettlementTerms memory t) {
        Terms[] storage versions = _versions[agreementId];
        for (uint256 i = versions.length; i > 0; --i) {
            Terms storage v = versions[i - 1];
            if (v.effectiveFrom <= period) return SettlementTerms(v.carrierA, v.carrierB, v.token, v.windows);
        }
        revert BookNoVersion(agreementId, period);
    }

    /// @inheritdoc IAgreementBook
    function versionOf(
        bytes32 agreementId,
        uint32 version
    ) external view returns (Terms memory terms, string memory termsCid) {
        if (version >= _versions[agreementId].length) revert BookNoVersion(agreementId, 0);
        return (_versions[agreementId][version], _cids[agreementId][version]);
    }

    /// @inheritdoc IAgreementBook
    function versionCount(bytes32 agreementId) external view returns (uint32) {
        return uint32(_versions[agreementId].length);
    }

    /// @inheritdoc IAgreementBook
    function proposalOf(bytes32 proposalId) external view returns (Proposal memory) {
        return _proposals[proposalId];
    }

    function _approve(bytes32 proposalId, Proposal storage p, bytes32 carrierId) private {
        address[] memory accounts = new address[](1);
        accounts[0] = msg.sender;
        if (!_registry.isOfficer(carrierId, msg.sender)) revert BookNotOfficer(carrierId, msg.sender);
        (uint8[] memory slots, uint256 activeMask, uint8 threshold, uint64 nonce) = _registry.officerSlots(
            carrierId,
            accounts
        );
        uint256 bit = uint256(1) << slots[0];
        bool isA = carrierId == p.terms.carrierA;
        uint64[2] storage nonces = _approvalNonces[proposalId];
        uint256 side = isA ? 0 : 1;
        // Approvals gathered under an older officer set start again (I-1).
        uint256 approvals = nonces[side] == nonce ? (isA ? p.approvalsA : p.approvalsB) : 0;
        nonces[side] = nonce;
        if (approvals & bit != 0) revert BookAlreadyApproved(proposalId, carrierId, msg.sender);
        approvals |= bit;
        if (isA) p.approvalsA = approvals;
        else p.approvalsB = approvals;
        emit ProposalApproved(proposalId, carrierId, msg.sender);

        if (Bits.popcount(approvals & activeMask) < threshold) return;
        if (_approvedBy(proposalId, p, !isA)) _activate(proposalId, p);
    }

    /// @dev Whether carrier A (`sideA`) or B reached its current threshold on `p` with approvals gathered
    /// under its current officer set.
    function _approvedBy(bytes32 proposalId, Proposal storage p, bool sideA) private view returns (bool) {
        (, uint256 mask, uint8 threshold, uint64 nonce) = _registry.officerSlots(
            sideA ? p.terms.carrierA : p.terms.carrierB,
            new address[](0)
        );
        if (_approvalNonces[proposalId][sideA ? 0 : 1] != nonce) return false; // gathered before an update
        return Bits.popcount((sideA ? p.approvalsA : p.approvalsB) & mask) >= threshold;
    }

    function _activate(bytes32 proposalId, Proposal storage p) private {
        Terms[] storage versions = _versions[p.agreementId];
        uint32 effectiveFrom = p.terms.effectiveFrom;
        if (versions.length > 0) {
            uint32 latest = versions[versions.length - 1].effectiveFrom;
            if (effectiveFrom <= latest || effectiveFrom <= PeriodMath.periodOf(block.timestamp)) {
                revert BookInvalidEffectivePeriod(effectiveFrom, latest);
            }
        }
        uint32 version = uint32(versions.length);
        versions.push(p.terms);
        _cids[p.agreementId].push(p.termsCid);
        p.active = true;
        p.activatedVersion = version;
        emit AgreementVersionActivated(p.agreementId, version, proposalId, effectiveFrom);
    }

    function _validate(Terms calldata t) private view {
        if (
            t.carrierA == t.carrierB ||
            !_registry.isRegistered(t.carrierA) ||
            !_registry.isRegistered(t.carrierB)
        ) revert BookInvalidTerms(INVALID_CARRIERS);
        if (!_registry.isTokenListed(t.token)) revert BookInvalidTerms(INVALID_TOKEN);
        if (!_registry.canArbitrate(t.arbiter)) revert BookInvalidTerms(INVALID_ARBITER);
        if (t.toleranceBps > 10_000) revert BookInvalidTerms(INVALID_TOLERANCE);
        Windows calldata w = t.windows;
        if (
            w.commit == 0 ||
            w.reveal == 0 ||
            w.reconcile == 0 ||
            w.dispute == 0 ||
            w.response == 0 ||
            w.arbitration == 0
        ) revert BookInvalidTerms(INVALID_WINDOWS);
        if (!PeriodMath.isValid(t.effectiveFrom)) revert BookInvalidTerms(INVALID_PERIOD);
    }
}
