// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title ISettlementLedger
/// @notice The shared referee of interconnect settlement: salted commitments of each carrier's usage
/// summary, reveals, evaluation, correction rounds, disputes with arbitration, M-of-N approvals (direct or
/// EIP-712 signatures), escrow and (multilateral) settlement. A period is keyed by (agreementId, period)
/// with period = YYYYMM. State is derived from stored facts by {state}; see docs/CONTRACTS.md.
interface ISettlementLedger {
    /// @notice Derived state of an agreement-period.
    enum PeriodState {
        Pending, // the period has not ended yet (or the correction round has not started)
        Committing, // commit window open, not both committed
        Revealing, // both committed or the commit window closed; reveal window open
        Mismatched, // both revealed, not within tolerance: correct (new round) or dispute
        Defaulted, // only one party revealed; the silent party may contest within the dispute window
        Void, // nobody committed, or nobody revealed: nothing to settle
        Disputed, // dispute open: proposals and acceptance; escalation after the response window
        Escalated, // with the arbiter, within the arbitration window
        Matched, // equal roots and equal amounts
        Reconciled, // every direction within tolerance; amounts per the agreement's rule
        Uncontested, // default not contested within the dispute window: present party's figures
        Resolved, // dispute ended: accepted proposal, ruling, withdrawal, or lapsed arbitration (mean)
        Approved, // both carriers' officers approved the final figures
        Settled // escrow moved
    }

    /// @notice Evaluation outcome stored at the second reveal.
    enum Outcome {
        None,
        Matched,
        Reconciled,
        Mismatched
    }

    /// @notice How a dispute ended.
    enum Resolution {
        None,
        Accepted,
        Ruled,
        Withdrawn
    }

    /// @notice Stored facts of one agreement-period (4 storage slots).
    /// @dev `hashA`/`hashB` hold the commitment until the reveal, then the revealed Merkle root.
    /// `statusA`/`statusB`: 0 none, 1 revealed, 2 claim given when contesting a default.
    struct PeriodRecord {
        bytes32 hashA;
        bytes32 hashB;
        uint96 amountABofA;
        uint96 amountBAofA;
        uint8 statusA;
        uint40 roundStart;
        uint8 round;
        uint96 amountABofB;
        uint96 amountBAofB;
        uint8 statusB;
        uint40 evaluatedAt;
        Outcome outcome;
        uint8 flags;
    }

    /// @notice Stored facts of a dispute.
    /// @dev `opener` and `proposer` are 1 for carrier A, 2 for carrier B (0 none).
    struct DisputeRecord {
        uint40 openedAt;
        uint40 lastActionAt;
        uint40 escalatedAt;
        uint8 opener;
        uint8 proposer;
        Resolution resolution;
        /// @dev Proposals made so far (at most {SettlementLedger.MAX_PROPOSALS}).
        uint8 proposals;
        uint96 proposedAB;
        uint96 proposedBA;
        uint96 resolvedAB;
        uint96 resolvedBA;
        /// @dev When an accept, a ruling or a withdrawal resolved the dispute (0 while open, and for a lapsed
        /// arbitration, which is final at the end of the arbitration window).
        uint40 resolvedAt;
    }

    /// @notice What an officer approves (signed as EIP-712 typed data `Approval`).
    /// @param carrierId the approving carrier
    /// @param round the period's round
    /// @param partialSettlement true for the undisputed part during a dispute, false for final figures
    /// @param rootA carrier A's revealed root (zero if A did not reveal)
    /// @param rootB carrier B's revealed root (zero if B did not reveal)
    /// @param deadline last second the approval may be submitted
    struct Approval {
        bytes32 agreementId;
        uint32 period;
        bytes32 carrierId;
        uint8 round;
        bool partialSettlement;
        uint96 amountAB;
        uint96 amountBA;
        bytes32 rootA;
        bytes32 rootB;
        uint64 deadline;
    }

    /// @notice A silent party's claim when contesting a default (see {contestDefault}): its figures and, when
    /// its node committed in the round, the opening of that commitment (`root`, `salt`; zero otherwise).
    struct Claim {
        bytes32 root;
        uint96 amountAB;
        uint96 amountBA;
        bytes32 salt;
    }

    /// @notice The opening of a node's commitment (see {computeCommitment}): what {reveal} takes, for
    /// {revealBoth} and {revealAndSettle}, which anyone may submit since an opening proves itself.
    struct Opening {
        bytes32 root;
        uint96 amountAB;
        uint96 amountBA;
        bytes32 salt;
    }

    /// @notice Identifies a period for {settleBatch}.
    struct PeriodKey {
        bytes32 agreementId;
        uint32 period;
    }

    /// @notice Deadlines of a period's current round and dispute (0 where not applicable).
    struct Deadlines {
        uint256 roundStart;
        uint256 commitDeadline;
        uint256 revealDeadline;
        uint256 reconcileDeadline;
        uint256 defaultDisputeDeadline;
        uint256 responseDeadline;
        uint256 arbitrationDeadline;
        /// @dev Binding outcomes (Uncontested, Resolved): the last second for officers to approve; after it
        /// anyone may settle the final figures without approvals (0 for Matched and Reconciled, which need
        /// both carriers' approvals, and while the figures are not final).
        uint256 approvalDeadline;
    }

    /// @notice Escrow reserved for one agreement-period's settlement: made when the payer's officers reach
    /// their threshold, consumed by the settlement, released otherwise only by {release} (see docs/CONTRACTS.md).
    /// @param amount what the payer owes on the approved figures (net of an earlier partial settlement)
    /// @param expiresAt the deadline of the approval that completed the payer's threshold; {release} is
    /// possible from the next second on, unless both carriers approved
    /// @param payer 1 for carrier A, 2 for carrier B (0: no reservation)
    /// @param partialSettlement reserved for the undisputed part (true) or for the final figures (false)
    struct Reservation {
        uint128 amount;
        uint64 expiresAt;
        uint8 payer;
        bool partialSettlement;
    }

    /// @notice `carrierId`'s node committed `commitment` for round `round`.
    event Committed(
        bytes32 indexed agreementId,
        uint32 indexed period,
        bytes32 indexed carrierId,
        uint8 round,
        bytes32 commitment
    );
    /// @notice `carrierId` revealed its root and figures for round `round`.
    event Revealed(
        bytes32 indexed agreementId,
        uint32 indexed period,
        bytes32 indexed carrierId,
        uint8 round,
        bytes32 root,
        uint96 amountAB,
        uint96 amountBA
    );
    /// @notice Both reveals were evaluated; amounts are the final figures (zero when Mismatched).
    event Evaluated(
        bytes32 indexed agreementId,
        uint32 indexed period,
        uint8 round,
        Outcome outcome,
        uint96 amountAB,
        uint96 amountBA
    );
    /// @notice An officer of `carrierId` opened a dispute on a Mismatched period.
    event DisputeOpened(
        bytes32 indexed agreementId,
        uint32 indexed period,
        bytes32 indexed carrierId,
        uint16 reasonCode,
        string evidenceCid
    );
    /// @notice The silent party `carrierId` contested a default, stating its own figures; `root` is the root
    /// its opened commitment holds (zero when it had not committed).
    event DefaultContested(
        bytes32 indexed agreementId,
        uint32 indexed period,
        bytes32 indexed carrierId,
        bytes32 root,
        uint96 amountAB,
        uint96 amountBA,
        uint16 reasonCode,
        string evidenceCid
    );
    /// @notice `carrierId` proposed figures in the dispute.
    event FiguresProposed(
        bytes32 indexed agreementId,
        uint32 indexed period,
        bytes32 indexed carrierId,
        uint96 amountAB,
        uint96 amountBA,
        string evidenceCid
    );
    /// @notice `carrierId` accepted the other side's proposal; the dispute is resolved at these figures.
    event FiguresAccepted(
        bytes32 indexed agreementId,
        uint32 indexed period,
        bytes32 indexed carrierId,
        uint96 amountAB,
        uint96 amountBA
    );
    /// @notice `carrierId` escalated the dispute; the arbiter must rule by `deadline`.
    event DisputeEscalated(
        bytes32 indexed agreementId,
        uint32 indexed period,
        bytes32 indexed carrierId,
        uint256 deadline
    );
    /// @notice The arbiter ruled.
    event DisputeRuled(
        bytes32 indexed agreementId,
        uint32 indexed period,
        address indexed arbiter,
        uint96 amountAB,
        uint96 amountBA,
        string rationaleCid
    );
    /// @notice The opener withdrew; the dispute is resolved at the other party's figures.
    event DisputeWithdrawn(
        bytes32 indexed agreementId,
        uint32 indexed period,
        bytes32 indexed carrierId,
        uint96 amountAB,
        uint96 amountBA
    );
    /// @notice Officer `signer` of `carrierId` approved the figures, leaving the carrier below its threshold
    /// (the approval that reaches it is a {CarrierApproved}).
    event OfficerApproved(
        bytes32 indexed agreementId,
        uint32 indexed period,
        bytes32 indexed carrierId,
        address signer,
        bool partialSettlement
    );
    /// @notice `carrierId` reached its threshold on these figures; `officers` are the officers whose approval
    /// in this transaction reached it (those counted before have their {OfficerApproved}).
    event CarrierApproved(
        bytes32 indexed agreementId,
        uint32 indexed period,
        bytes32 indexed carrierId,
        bool partialSettlement,
        uint96 amountAB,
        uint96 amountBA,
        address[] officers
    );
    /// @notice The period settled; `netAB` (A→B, negative: B→A) moved between the carriers' escrow.
    event Settled(
        bytes32 indexed agreementId,
        uint32 indexed period,
        address indexed token,
        bool partialSettlement,
        uint96 amountAB,
        uint96 amountBA,
        int256 netAB
    );
    /// @notice The escrow of `carrierId` in `token` changed by `delta` through settlement.
    event EscrowMoved(bytes32 indexed carrierId, address indexed token, int256 delta);
    /// @notice `from` deposited `amount` of `token` to `carrierId`'s escrow.
    event Deposited(bytes32 indexed carrierId, address indexed token, address indexed from, uint256 amount);
    /// @notice `amount` of `token` left `carrierId`'s escrow to its treasury `to`.
    event Withdrawn(bytes32 indexed carrierId, address indexed token, address indexed to, uint256 amount);
    /// @notice The payer `carrierId` reached its threshold: `amount` of its `token` escrow is reserved for the
    /// period's settlement (the undisputed part if `partialSettlement`) and cannot be withdrawn; {release}
    /// is possible after `expiresAt` unless both carriers approved.
    event EscrowReserved(
        bytes32 indexed agreementId,
        uint32 indexed period,
        bytes32 indexed carrierId,
        address token,
        bool partialSettlement,
        uint256 amount,
        uint64 expiresAt
    );
    /// @notice The reservation of `carrierId` ended without being settled (it lapsed, or a dispute's end
    /// left a partial one unused): `amount` is available again and `carrierId`'s approval (the partial one
    /// if `partialSettlement`) is withdrawn with it, so the period is never Approved without its reservation.
    event ReservationReleased(
        bytes32 indexed agreementId,
        uint32 indexed period,
        bytes32 indexed carrierId,
        address token,
        bool partialSettlement,
        uint256 amount
    );
    /// @notice {settleBatch} left the period out, unchanged: it was in `state`, which {settle} would refuse
    /// now (already settled, e.g. by someone settling it first; not approved; a binding outcome before its
    /// approval deadline).
    event SettlementSkipped(bytes32 indexed agreementId, uint32 indexed period, PeriodState state);

    /// @notice The period is in `current`; the call needs one of the states set in `expectedBitmap`
    /// (bit i = PeriodState(i)).
    error LedgerUnexpectedState(
        bytes32 agreementId,
        uint32 period,
        PeriodState current,
        bytes32 expectedBitmap
    );
    /// @notice `account` is not a node of either party of `agreementId`.
    error LedgerNotPartyNode(bytes32 agreementId, address account);
    /// @notice A signed commitment for `carrierId` recovers to `signer`, which is not a node of that carrier.
    error LedgerNotCarrierNode(bytes32 carrierId, address signer);
    /// @notice `carrierId` is not a party of `agreementId`.
    error LedgerNotParty(bytes32 agreementId, bytes32 carrierId);
    /// @notice `account` is not an officer of `carrierId`.
    error LedgerNotOfficer(bytes32 carrierId, address account);
    /// @notice `account` is not the arbiter of `agreementId` (or lost the role).
    error LedgerNotArbiter(bytes32 agreementId, address account);
    /// @notice `carrierId` already committed in this round.
    error LedgerAlreadyCommitted(bytes32 agreementId, uint32 period, bytes32 carrierId);
    /// @notice `carrierId` did not commit in this round.
    error LedgerNotCommitted(bytes32 agreementId, uint32 period, bytes32 carrierId);
    /// @notice `carrierId` already revealed in this round.
    error LedgerAlreadyRevealed(bytes32 agreementId, uint32 period, bytes32 carrierId);
    /// @notice The opening hashes to `computed`, not to the stored commitment `committed`.
    error LedgerCommitmentMismatch(bytes32 agreementId, uint32 period, bytes32 committed, bytes32 computed);
    /// @notice A commitment or revealed root is zero.
    error LedgerZeroHash();
    /// @notice The step's window closed at `deadline`.
    error LedgerDeadlinePassed(bytes32 agreementId, uint32 period, uint256 deadline);
    /// @notice The step is not allowed before `notBefore`.
    error LedgerTooEarly(bytes32 agreementId, uint32 period, uint256 notBefore);
    /// @notice All `maxRounds` rounds are used.
    error LedgerRoundLimit(bytes32 agreementId, uint32 period, uint8 maxRounds);
    /// @notice The dispute has had its `maxProposals` proposals: accept the last one or escalate.
    error LedgerProposalLimit(bytes32 agreementId, uint32 period, uint8 maxProposals);
    /// @notice The caller's carrier may not do this step (e.g. accept its own proposal).
    error LedgerWrongParty(bytes32 agreementId, uint32 period, bytes32 carrierId);
    /// @notice There is no proposal to accept.
    error LedgerNoProposal(bytes32 agreementId, uint32 period);
    /// @notice The proposal on record is (`proposedAB`, `proposedBA`), not the figures the accepter named.
    error LedgerProposalChanged(bytes32 agreementId, uint32 period, uint96 proposedAB, uint96 proposedBA);
    /// @notice A ruling of `amount` is outside the claims [`low`, `high`] of its direction.
    error LedgerRulingOutOfRange(
        bytes32 agreementId,
        uint32 period,
        uint256 amount,
        uint256 low,
        uint256 high
    );
    /// @notice The approval does not cover the figures the period holds (hashes of both figure sets).
    error LedgerApprovalMismatch(bytes32 agreementId, uint32 period, bytes32 expected, bytes32 given);
    /// @notice The approval expired at `deadline`.
    error LedgerApprovalExpired(uint64 deadline);
    /// @notice `carrierId` already approved (partial or final, as flagged).
    error LedgerAlreadyApproved(
        bytes32 agreementId,
        uint32 period,
        bytes32 carrierId,
        bool partialSettlement
    );
    /// @notice The partial settlement is not approved by both carriers or already settled.
    error LedgerPartialNotReady(bytes32 agreementId, uint32 period);
    /// @notice `carrierId` has `available` of `token` in escrow but `needed` is required.
    error LedgerInsufficientEscrow(bytes32 carrierId, address token, uint256 needed, uint256 available);
    /// @notice The period settles in `actual`, not in the batch token `expected`.
    error LedgerTokenMismatch(bytes32 agreementId, uint32 period, address expected, address actual);
    /// @notice `token` is not a listed settlement token.
    error LedgerTokenNotListed(address token);
    /// @notice `carrierId` is not registered.
    error LedgerUnknownCarrier(bytes32 carrierId);
    /// @notice A zero amount was given.
    error LedgerZeroAmount();
    /// @notice The period holds no reservation.
    error LedgerNoReservation(bytes32 agreementId, uint32 period);
    /// @notice Both carriers approved: the reservation is bound to the settlement and cannot be released.
    error LedgerReservationBound(bytes32 agreementId, uint32 period);

    /// @notice Submits the caller node's commitment (see {computeCommitment}). In a Mismatched period
    /// within the reconcile window this starts a correction round.
    function commit(bytes32 agreementId, uint32 period, bytes32 commitment) external;

    /// @notice Opens the caller node's commitment; the second reveal evaluates the period.
    function reveal(
        bytes32 agreementId,
        uint32 period,
        bytes32 root,
        uint96 amountAB,
        uint96 amountBA,
        bytes32 salt
    ) external;

    /// @notice Both carriers' commitments in one transaction, submitted by anyone: each is signed by a node of
    /// its carrier as EIP-712 `Commitment(agreementId, period, round, carrierId, commitment)` (the nodes
    /// exchange them over the peer protocol; a commitment shows nothing of its figures). `round` is the round
    /// the commitments land in (the next one from Mismatched: a correction round starts). An empty signature
    /// stands for the caller's: a node submitting commits its own carrier's as {commit} would. A side already
    /// committed in that round is skipped, its signature not read, so a commit sent first does not make this
    /// call fail.
    function commitBoth(
        bytes32 agreementId,
        uint32 period,
        bytes32 commitmentA,
        bytes calldata nodeSignatureA,
        bytes32 commitmentB,
        bytes calldata nodeSignatureB
    ) external;

    /// @notice Opens both carriers' commitments in one transaction, submitted by anyone (a node that received
    /// its partner's opening over the peer protocol once both commitments were on the ledger): each opening
    /// must hash to its carrier's commitment; a side already revealed is skipped, so an earlier {reveal}
    /// of one side does not make this call fail. Evaluates the period as the second {reveal} does.
    function revealBoth(
        bytes32 agreementId,
        uint32 period,
        Opening calldata openingA,
        Opening calldata openingB
    ) external;

    /// @notice {revealBoth}, then {approveAndSettle} with the same arguments: the commit–reveal path's whole
    /// ending in one transaction, when both carriers' officers signed the final figures the two openings give
    /// (both nodes know them, checked against the commitments, before they are on the ledger: the
    /// {Approval} {approvalFigures} gives after the reveal). Reverts whole when they do not
    /// ({LedgerApprovalMismatch}), and with {LedgerUnexpectedState} when the openings do not reconcile.
    /// @dev `approval` is carrier A's (see {approveAndSettle}); its agreement and period are the openings'.
    function revealAndSettle(
        Approval calldata approval,
        Opening calldata openingA,
        Opening calldata openingB,
        bytes[] calldata signaturesA,
        bytes[] calldata signaturesB
    ) external;

    /// @notice Opens a dispute on a Mismatched period (officer of `carrierId`).
    function openDispute(
        bytes32 agreementId,
        uint32 period,
        bytes32 carrierId,
        uint16 reasonCode,
        string calldata evidenceCid
    ) external;

    /// @notice The silent party contests a default within the dispute window, stating its figures. A party
    /// whose node committed in the round must open that commitment: the `claim`'s root, figures and salt must
    /// hash to it (else {LedgerCommitmentMismatch}), so it cannot walk away from its commitment after seeing
    /// the other side's reveal (M-2). A party that did not commit gives a zero root and salt.
    function contestDefault(
        bytes32 agreementId,
        uint32 period,
        bytes32 carrierId,
        Claim calldata claim,
        uint16 reasonCode,
        string calldata evidenceCid
    ) external;

    /// @notice Proposes (or counter-proposes) figures in an open dispute.
    function proposeFigures(
        bytes32 agreementId,
        uint32 period,
        bytes32 carrierId,
        uint96 amountAB,
        uint96 amountBA,
        string calldata evidenceCid
    ) external;

    /// @notice Accepts the other side's proposal within the response window → Resolved. The officer names the
    /// figures they accept: a proposal replaced meanwhile (even in the same block) makes the call revert with
    /// {LedgerProposalChanged} instead of accepting what the accepter never saw.
    function acceptFigures(
        bytes32 agreementId,
        uint32 period,
        bytes32 carrierId,
        uint96 amountAB,
        uint96 amountBA
    ) external;

    /// @notice Escalates to the arbiter once the response window after the last step has passed.
    function escalate(bytes32 agreementId, uint32 period, bytes32 carrierId) external;

    /// @notice The arbiter rules within the arbitration window; each direction between the two claims.
    function rule(
        bytes32 agreementId,
        uint32 period,
        uint96 amountAB,
        uint96 amountBA,
        string calldata rationaleCid
    ) external;

    /// @notice The opener withdraws a (not escalated) dispute, conceding the other party's figures.
    function withdrawDispute(bytes32 agreementId, uint32 period, bytes32 carrierId) external;

    /// @notice Approval by the calling officer of `approval.carrierId`. The approval that completes the
    /// threshold of the carrier that pays reserves the net it owes ({EscrowReserved}) until `approval.deadline`,
    /// or reverts with {LedgerInsufficientEscrow} when its available escrow ({escrowOf} − {reservedOf}) is
    /// short. Approvals are counted against the officer set of the time: a tally gathered before the
    /// carrier's officers, threshold or nodes changed ({ICarrierRegistry-officerNonce}) starts again.
    function approve(Approval calldata approval) external;

    /// @notice Approval by EIP-712 signatures of officers of `approval.carrierId`, submitted by anyone; as
    /// {approve}. A 65-byte signature is an ECDSA one; a contract officer (ERC-1271, e.g. a Safe) signs with
    /// abi.encode(address officer, bytes signature) (see {OfficerSignatures}).
    function approveWithSignatures(Approval calldata approval, bytes[] calldata signatures) external;

    /// @notice Both carriers' signature approvals and the settlement in one transaction.
    /// @dev `approval` is carrier A's; B's is the same with `carrierId` = B.
    function approveAndSettle(
        Approval calldata approval,
        bytes[] calldata signaturesA,
        bytes[] calldata signaturesB
    ) external;

    /// @notice Settles one Approved period from the payer's reservation, or a binding outcome (Uncontested,
    /// Resolved) whose approval deadline has passed without both approvals (see {Deadlines}) from the payer's
    /// available escrow; moves only the remainder after a partial settlement.
    function settle(bytes32 agreementId, uint32 period) external;

    /// @notice Settles the undisputed part of a disputed period once both carriers approved it, from the
    /// payer's reservation.
    function settlePartial(bytes32 agreementId, uint32 period) external;

    /// @notice Settles many periods in `token` (each Approved, or binding past its approval deadline), moving
    /// only each carrier's net position; a period {settle} would refuse now is left out with
    /// {SettlementSkipped}.
    function settleBatch(address token, PeriodKey[] calldata keys) external;

    /// @notice Deposits `amount` of `token` into `carrierId`'s escrow (anyone may fund a carrier).
    function deposit(bytes32 carrierId, address token, uint256 amount) external;

    /// @notice {deposit} preceded by an ERC-2612 permit of the caller.
    function depositWithPermit(
        bytes32 carrierId,
        address token,
        uint256 amount,
        uint256 deadline,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external;

    /// @notice Withdraws available escrow of `carrierId` ({escrowOf} − {reservedOf}) to its registered
    /// treasury (officer of `carrierId`).
    function withdraw(bytes32 carrierId, address token, uint256 amount) external;

    /// @notice Releases the period's reservation once it expired ({Reservation}`.expiresAt` has passed) unless
    /// both carriers approved (then the settlement is guaranteed: {LedgerReservationBound}); the payer's
    /// approval is withdrawn with it ({ReservationReleased}). Anyone may call it.
    function release(bytes32 agreementId, uint32 period) external;

    /// @notice Derived state of the period.
    function state(bytes32 agreementId, uint32 period) external view returns (PeriodState);

    /// @notice Stored facts of the period.
    function periodRecord(bytes32 agreementId, uint32 period) external view returns (PeriodRecord memory);

    /// @notice Stored facts of the period's dispute.
    function disputeRecord(bytes32 agreementId, uint32 period) external view returns (DisputeRecord memory);

    /// @notice Deadlines of the current round and dispute.
    function deadlines(bytes32 agreementId, uint32 period) external view returns (Deadlines memory);

    /// @notice The figures officers must approve now (final, or the undisputed part if `partialSettlement`),
    /// with both roots and the round. Reverts with {LedgerUnexpectedState} if there are none.
    function approvalFigures(
        bytes32 agreementId,
        uint32 period,
        bool partialSettlement
    ) external view returns (uint96 amountAB, uint96 amountBA, bytes32 rootA, bytes32 rootB, uint8 round);

    /// @notice Approval progress of `carrierId`: distinct current officers counted, threshold, reached.
    function approvalsOf(
        bytes32 agreementId,
        uint32 period,
        bytes32 carrierId,
        bool partialSettlement
    ) external view returns (uint256 count, uint256 threshold, bool approved);

    /// @notice Escrow balance of `carrierId` in `token`, reserved part included (see {reservedOf}).
    function escrowOf(bytes32 carrierId, address token) external view returns (uint256);

    /// @notice EIP-712 digest of `approval` for this ledger.
    function approvalDigest(Approval calldata approval) external view returns (bytes32);

    /// @notice keccak256(abi.encode(chainid, ledger, agreementId, period, round, party, root, amountAB,
    /// amountBA, salt)): bound to this chain, this ledger and the round, so that no opened commitment can be
    /// replayed on another ledger, chain or round, even with a reused salt (I-2).
    function computeCommitment(
        bytes32 agreementId,
        uint32 period,
        uint8 round,
        bytes32 party,
        bytes32 root,
        uint256 amountAB,
        uint256 amountBA,
        bytes32 salt
    ) external view returns (bytes32);

    /// @notice Escrow of `carrierId` in `token` reserved for approved settlements; the available part is
    /// {escrowOf} − {reservedOf}.
    function reservedOf(bytes32 carrierId, address token) external view returns (uint256);

    /// @notice The period's reservation (amount 0: none).
    function reservationOf(bytes32 agreementId, uint32 period) external view returns (Reservation memory);

    // ---------------------------------------------------------------- co-signed fast path

    /// @notice The figures both carriers' officers sign for the fast path (EIP-712 typed data `Settlement`,
    /// the ledger's domain): one struct for both carriers, so both sides sign the same digest.
    /// @param root the Merkle root of the usage summary both nodes built (equal on both sides)
    /// @param amountAB what A owes B for the period
    /// @param amountBA what B owes A for the period
    /// @param deadline last second the signatures may be submitted
    struct Settlement {
        bytes32 agreementId;
        uint32 period;
        bytes32 root;
        uint96 amountAB;
        uint96 amountBA;
        uint64 deadline;
    }

    /// @notice The period settled by the fast path at figures both carriers' officers signed: `root` and the
    /// figures are what they signed, and `amountAB − amountBA` moved from A's escrow to B's (negative: from B to A;
    /// the `EscrowMoved` events carry it). `officersA` and `officersB` are the officer slots whose signatures
    /// counted (bit i = slot i of the carrier, as in the registry's `OfficerAdded`), each a current officer then.
    event FastPathSettled(
        bytes32 indexed agreementId,
        uint32 indexed period,
        address indexed token,
        bytes32 root,
        uint96 amountAB,
        uint96 amountBA,
        uint256 officersA,
        uint256 officersB
    );

    /// @notice The fast-path signatures expired at `deadline`.
    error LedgerSettlementExpired(uint64 deadline);
    /// @notice `signer` signed twice, or for both carriers: a signature counts once, for one carrier.
    error LedgerDuplicateSigner(bytes32 carrierId, address signer);
    /// @notice Only `count` current officers of `carrierId` signed; its threshold is `threshold`.
    error LedgerBelowThreshold(bytes32 carrierId, uint256 count, uint256 threshold);
    /// @notice The period is in correction round `round`: the fast path is open only before round 0's outcome.
    error LedgerNotFirstRound(bytes32 agreementId, uint32 period, uint8 round);

    /// @notice The co-signed fast path: settles the period at the figures both carriers' officers signed in one
    /// `Settlement` (each carrier at its threshold now, every signer a distinct current officer, no address for
    /// both carriers), moving the net from escrow in one transaction that anyone may send. Allowed once the period
    /// has ended, in round 0 while it is Committing or Revealing and nobody has revealed (commitments made
    /// meanwhile are superseded); the period then reads Matched → Settled and {FastPathSettled} reports the root,
    /// the figures and the officers who signed. The digest signed is `LedgerFastPath.settlementDigest` (a view on
    /// the linked library, for this ledger's address).
    function settleFastPath(
        Settlement calldata settlement,
        bytes[] calldata signaturesA,
        bytes[] calldata signaturesB
    ) external;
}
