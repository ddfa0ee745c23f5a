// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title IAgreementBook
/// @notice Bilateral interconnect agreements and their versions. A version is proposed by an officer of
/// either carrier and becomes active once both carriers' officers approved it, each reaching its
/// threshold. Every version stays readable; a period uses the latest version whose `effectiveFrom` is not
/// after it.
interface IAgreementBook {
    /// @notice Which figure a direction settles at when both parties are within tolerance.
    enum ToleranceRule {
        Terminating,
        Originating,
        Mean
    }

    /// @notice Deadlines in seconds; see docs/CONTRACTS.md for where each one starts.
    struct Windows {
        uint32 commit;
        uint32 reveal;
        uint32 reconcile;
        uint32 dispute;
        uint32 response;
        uint32 arbitration;
    }

    /// @notice One version of an agreement's terms.
    /// @param carrierA party A (amountAB is what A owes B)
    /// @param carrierB party B
    /// @param token listed ERC-20 the periods settle in
    /// @param toleranceBps relative tolerance in basis points of the larger figure
    /// @param rule which figure applies within tolerance
    /// @param effectiveFrom first period (YYYYMM) this version governs
    /// @param arbiter account that rules on escalated disputes (ARBITER_ROLE or REGULATOR_ROLE)
    /// @param toleranceAbs absolute tolerance in token units
    /// @param windows the deadlines
    /// @param termsHash hash of the full terms and tariffs document
    struct Terms {
        bytes32 carrierA;
        bytes32 carrierB;
        address token;
        uint16 toleranceBps;
        ToleranceRule rule;
        uint32 effectiveFrom;
        address arbiter;
        uint96 toleranceAbs;
        Windows windows;
        bytes32 termsHash;
    }

    /// @notice A version proposal and its approvals so far.
    struct Proposal {
        bytes32 agreementId;
        uint40 proposedAt;
        uint32 activatedVersion;
        bool active;
        bool cancelled;
        uint256 approvalsA;
        uint256 approvalsB;
        Terms terms;
        string termsCid;
    }

    /// @notice `proposerCarrier` proposed `terms` (full document at `termsCid`) for `agreementId`.
    event AgreementProposed(
        bytes32 indexed agreementId,
        bytes32 indexed proposalId,
        bytes32 indexed proposerCarrier,
        Terms terms,
        string termsCid
    );
    /// @notice Officer `officer` of `carrierId` approved proposal `proposalId`.
    event ProposalApproved(bytes32 indexed proposalId, bytes32 indexed carrierId, address indexed officer);

    /// @notice An officer of `carrierId` withdrew (its own) or declined (the other party's) proposal.
    event ProposalCancelled(bytes32 indexed proposalId, bytes32 indexed carrierId, address indexed officer);
    /// @notice Proposal `proposalId` became version `version` of `agreementId`, in force from `effectiveFrom`.
    event AgreementVersionActivated(
        bytes32 indexed agreementId,
        uint32 indexed version,
        bytes32 indexed proposalId,
        uint32 effectiveFrom
    );

    /// @notice `account` is not an officer of `carrierId`.
    error BookNotOfficer(bytes32 carrierId, address account);
    /// @notice `carrierId` is not a party of `agreementId`.
    error BookNotParty(bytes32 agreementId, bytes32 carrierId);
    /// @notice The terms are invalid; `reason` names the failing field (see docs/CONTRACTS.md).
    error BookInvalidTerms(uint8 reason);
    /// @notice `effectiveFrom` is not after both the latest version's (`latest`) and the current month.
    error BookInvalidEffectivePeriod(uint32 effectiveFrom, uint32 latest);
    /// @notice No proposal `proposalId`, or it is already active.
    error BookUnknownProposal(bytes32 proposalId);

    /// @notice The proposal was cancelled, or its lifetime ended at `expiredAt`, before both carriers approved.
    error BookProposalClosed(bytes32 proposalId, uint256 expiredAt);
    /// @notice Officer `officer` of `carrierId` already approved proposal `proposalId`.
    error BookAlreadyApproved(bytes32 proposalId, bytes32 carrierId, address officer);
    /// @notice `agreementId` has no version in force for `period`.
    error BookNoVersion(bytes32 agreementId, uint32 period);

    /// @notice Proposes a new agreement (`agreementId` zero) or an amendment to an existing one.
    /// @dev Counts as the calling officer's approval for `proposerCarrier`.
    function propose(
        bytes32 agreementId,
        bytes32 proposerCarrier,
        Terms calldata terms,
        string calldata termsCid
    ) external returns (bytes32 id, bytes32 proposalId);

    /// @notice Approves a proposal as an officer of `carrierId`; activates it when both carriers reach
    /// their thresholds.
    function approveProposal(bytes32 proposalId, bytes32 carrierId) external;

    /// @notice An officer of either party ends a proposal that is not active yet: no approval counts after.
    function cancelProposal(bytes32 proposalId, bytes32 carrierId) external;

    /// @notice The terms in force for `period` and their version number (0-based).
    function termsAt(bytes32 agreementId, uint32 period) external view returns (Terms memory, uint32 version);

    /// @notice What the ledger reads of the terms in force for `period` in every step: {termsAt} with a zero
    /// `termsHash` (the ledger never reads it), one storage slot fewer.
    function ledgerTermsAt(bytes32 agreementId, uint32 period) external view returns (Terms memory);

    /// @notice Version `version` of `agreementId` and its terms CID.
    function versionOf(
        bytes32 agreementId,
        uint32 version
    ) external view returns (Terms memory terms, string memory termsCid);

    /// @notice Number of active versions of `agreementId`.
    function versionCount(bytes32 agreementId) external view returns (uint32);

    /// @notice A proposal and its approvals.
    function proposalOf(bytes32 proposalId) external view returns (Proposal memory);

    /// @notice What a settlement step needs of the terms in force for a period: the parties, the token and the
    /// windows (see {settlementTermsAt}).
    struct SettlementTerms {
        bytes32 carrierA;
        bytes32 carrierB;
        address token;
        Windows windows;
    }

    /// @notice The parties, token and windows of the terms in force for `period`: {termsAt} without the
    /// tolerance, rule, arbiter and terms hash, so it reads four of a version's six storage slots.
    function settlementTermsAt(
        bytes32 agreementId,
        uint32 period
    ) external view returns (SettlementTerms memory);
}
