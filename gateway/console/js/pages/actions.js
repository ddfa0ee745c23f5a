/**
 * What the signed-in person may do about the period now, by role and ledger state: approve (officers;
 * for a period the node leaves to the co-signed fast path, co-sign its Settlement), open a dispute,
 * propose or counter figures, accept, escalate, withdraw (officers of a party), rule (the arbiter),
 * settle (officers, once approved). Every action first asks the node to plan it — checked as the ledger
 * would check it — and shows exactly what will be signed: the EIP-712 approval or settlement, or the
 * transaction with its call in words. Only then does the person's own key sign; settling is sent by the
 * node's key, after the officer saw who pays whom.
 */
import { api, periodPath } from "../api.js";
import { flash, h, mount, reveal } from "../dom.js";
import { decimal, parseAmount, plainAmount, reasonWords, round, when } from "../format.js";
import { attempt, hasRole, session } from "../main.js";
import { connectKey, signer } from "../wallet.js";

const FINAL = ["Matched", "Reconciled", "Uncontested", "Resolved"];
const PARTIAL = ["Disputed", "Escalated"];
/** The longest rationale the node takes (node/src/settlement/disputes.ts MAX_RATIONALE_CHARS). */
const RATIONALE_CHARS = 20_000;
const REASONS = ["missing_cdrs", "duration_difference", "rate_difference", "day_boundary_shift", "other"];

export async function actionsPanel(context) {
  const { view } = context;
  const ours = view.side ? view.sides[view.side].name : null;
  const stage = h("div", { id: "signing-stage" });
  const buttons = [];
  const add = (label, id, handler) =>
    buttons.push(h("button", { id, onclick: () => attempt(() => handler(stage, context)) }, label));

  if (hasRole("officer") && ours !== null) {
    const approvalOf = (part) => view.approvals[part].find((a) => a.name === ours);
    if (view.fastPath && !view.fastPath.progress.ours.signers.includes(session.current.address.toLowerCase()))
      add("Co-sign the settlement", "action-cosign", cosign);
    if (FINAL.includes(view.state) && !approvalOf("final")?.approved)
      add("Approve the final figures", "action-approve", (s, c) => approve(s, c, false));
    if (view.preReveal && !view.preReveal.ours.signers.includes(session.current.address.toLowerCase()))
      add("Approve before the reveal", "action-approve-early", (s, c) => approve(s, c, false));
    if (PARTIAL.includes(view.state) && view.partial && !approvalOf("partial")?.approved)
      add("Approve the undisputed part", "action-approve-partial", (s, c) => approve(s, c, true));
    if (settleable(view)) add(settleLabel(view), "action-settle", settle);
    if (view.state === "Mismatched") add("Open a dispute", "action-open", openForm);
    if (view.state === "Disputed") {
      const proposed = view.dispute?.proposed ?? null;
      const theirProposal = proposed !== null && view.dispute.proposer !== ours;
      // A counter answers the partner's proposal; after our own, the ledger takes another proposal of ours.
      const label = theirProposal
        ? "Counter-propose"
        : proposed === null
          ? "Propose figures"
          : "Propose other figures";
      add(label, "action-propose", (s, c) => figuresForm(s, c, theirProposal ? "counter" : "propose"));
      if (theirProposal)
        add("Accept their proposal", "action-accept", (s, c) => plan(s, c, { step: "accept" }));
      add("Escalate to the arbiter", "action-escalate", (s, c) => plan(s, c, { step: "escalate" }));
      if (view.dispute?.opener === ours)
        add("Withdraw the dispute", "action-withdraw", (s, c) => plan(s, c, { step: "withdraw" }));
    }
  }
  if (hasRole("arbiter") && view.state === "Escalated")
    add("Rule", "action-rule", (s, c) => figuresForm(s, c, "rule"));

  if (buttons.length === 0)
    return h("div.panel", { id: "actions" }, h("h2", "Actions"), h("p.muted", nothingToDo(view, ours)));
  return h("div.panel", { id: "actions" }, h("h2", "Actions"), h("div.actions", buttons), stage);
}

/** Why the signed-in person has no action here, in words: whose step it is, or that it is not theirs. */
function nothingToDo(view, ours) {
  if (hasRole("officer") && ours !== null)
    return view.state === "Escalated"
      ? "Nothing for you to sign now: the dispute is with the arbiter, who rules next."
      : `Nothing for you to sign while the period is ${view.state}.`;
  if (hasRole("arbiter"))
    return (
      `Your role (arbiter) cannot act on this period while it is ${view.state}: ` +
      "the arbiter rules once a party escalates the dispute."
    );
  const roles = session.current.roles.join(" and ");
  return (
    `Your role (${roles}) cannot act on this period: approvals and dispute steps are signed by ` +
    "the parties' officers, a ruling by the agreement's arbiter."
  );
}

/** Puts `panel` on the stage, in view, with focus on its heading. */
function show(stage, panel) {
  mount(stage, panel);
  reveal(panel);
}

/** A signer for the signed-in address, asking for the key when this tab holds none. */
function requireSigner(stage, then) {
  const current = signer();
  if (current && current.address.toLowerCase() === session.current.address.toLowerCase())
    return then(current);
  const input = h("input", { type: "password", id: "resign-key", autocomplete: "off", placeholder: "0x…" });
  show(
    stage,
    h(
      "div.panel.signing",
      h(
        "p",
        "This tab holds no key for ",
        h("code", session.current.address),
        ". Load it to sign (kept in memory only).",
      ),
      input,
      h(
        "div.actions",
        h(
          "button.primary",
          {
            onclick: () =>
              attempt(async () => {
                const loaded = connectKey(input.value);
                if (loaded.address.toLowerCase() !== session.current.address.toLowerCase())
                  throw new Error("that key is not the signed-in person's");
                return then(loaded);
              }),
          },
          "Load key",
        ),
      ),
    ),
  );
  return undefined;
}

/** Shows what will be signed and a button that signs it. */
function confirm(stage, title, words, payload, sign) {
  show(
    stage,
    h(
      "div.panel.signing",
      h("h3", title),
      h("p.what", { id: "what-will-be-signed" }, words),
      h(
        "details",
        h("summary", "Exactly what your key signs"),
        h("pre", { id: "signed-payload" }, JSON.stringify(payload, null, 2)),
      ),
      h(
        "div.actions",
        h(
          "button.primary",
          {
            id: "sign-and-send",
            onclick: (event) => {
              event.target.disabled = true;
              return attempt(async () => requireSigner(stage, sign)).finally(
                () => (event.target.disabled = false),
              );
            },
          },
          "Sign and send",
        ),
        h(
          "button",
          {
            id: "cancel-signing",
            // Back to the actions, so a keyboard user goes on from where they were.
            onclick: () => {
              mount(stage);
              document.querySelector("#actions .actions button")?.focus();
            },
          },
          "Cancel",
        ),
      ),
    ),
  );
}

async function approve(stage, context, partial) {
  const { view, agreement, period, amount } = context;
  const typed = await api.get(periodPath(agreement, period, "/approval"), { partial });
  const m = typed.message;
  const words =
    `Approve ${partial ? "the undisputed part of " : ""}${view.agreement} ${period}, ${round(m.round)}: ` +
    `A (${view.sides.A.name}) owes B ${amount(m.amountAB)}; B (${view.sides.B.name}) owes A ${amount(m.amountBA)}. ` +
    `Valid until ${when(m.deadline)}.` +
    (view.preReveal
      ? ` The period is not revealed yet: these are the figures both openings give (${view.preReveal.outcome}); ` +
        `it settles in one transaction once ${view.preReveal.theirs.name}'s officers approve them too.`
      : "");
  confirm(stage, "You approve, as an officer of your carrier", words, typed, async (who) => {
    const signature = await who.signTypedData(typed);
    const result = await api.post(periodPath(agreement, period, "/approvals"), { approval: m, signature });
    flash(
      result.status === "submitted"
        ? `Approved: the node submitted ${result.signers.length} signatures to the ledger.`
        : view.preReveal
          ? `Approved before the reveal: ${signedWords(result.signers.length, result.threshold, officerCount(view, view.sides[view.side].carrier))}; ` +
            `the node reveals and settles once both carriers' officers approved (${view.preReveal.theirs.name}'s too).`
          : `Your signature is kept: ${signedWords(result.signers.length, result.threshold, officerCount(view, view.sides[view.side].carrier))}.`,
    );
    await context.reload();
  });
}

/** Approved, or both carriers approved the undisputed part of a dispute that has not moved yet. */
function settleable(view) {
  if (view.state === "Approved") return true;
  const bothApproved = view.approvals.partial.length === 2 && view.approvals.partial.every((a) => a.approved);
  return PARTIAL.includes(view.state) && bothApproved && !view.settlement?.partial;
}

function settleLabel(view) {
  return view.state === "Approved" ? "Settle" : "Settle the undisputed part";
}

/**
 * Settling: the node shows who pays whom and each payer's escrow (GET …/settlement); the officer sends
 * it and the node's key signs the transaction (POST …/settle). Short escrow is said, and nothing sent.
 */
async function settle(stage, context) {
  const { view, agreement, period } = context;
  const preview = await api.get(periodPath(agreement, period, "/settlement"));
  const { plan } = preview;
  const money = (amount) => decimal(amount, plan.token);
  const moves = plan.periods.map((p) => h("li", `${p.payer} pays ${p.payee} ${money(p.amount)}`));
  const escrow = plan.positions.map((p) =>
    h("li", `${p.carrier}: escrow ${money(p.escrow)}, ${money(p.escrowAfter)} after settling`),
  );
  const short = plan.topUps.map((t) =>
    h("li", `${t.carrier} needs ${money(t.shortfall)} more in escrow (holds ${money(t.available)})`),
  );
  const what = preview.kind === "settlePartial" ? "the undisputed part of " : "";
  show(
    stage,
    h(
      "div.panel.signing",
      h("h3", `Settle ${what}${view.agreement} ${period}`),
      h("ul", { id: "settlement-moves" }, moves),
      h("p", "Escrow in the settlement token:"),
      h("ul", escrow),
      short.length > 0
        ? h(
            "div",
            { id: "settlement-short", role: "alert" },
            h("p", "Nothing can be sent yet:"),
            h("ul", short),
          )
        : h(
            "p.what",
            "Your node sends the settlement with its own key; the ledger moves the money from escrow.",
          ),
      h(
        "div.actions",
        short.length > 0
          ? null
          : h(
              "button.primary",
              {
                id: "settle-now",
                onclick: (event) => {
                  event.target.disabled = true;
                  return attempt(async () => {
                    const sent = await api.post(periodPath(agreement, period, "/settle"), {});
                    flash(
                      `Settled in transaction ${sent.transaction.txHash}: the period is now ${sent.state}.`,
                    );
                    await context.reload();
                  }).finally(() => (event.target.disabled = false));
                },
              },
              "Settle now",
            ),
        h("button", { id: "cancel-signing", onclick: () => mount(stage) }, "Cancel"),
      ),
    ),
  );
}

/** How many officers `carrier` has (the N of "M of N"), as the view read them from the registry. */
function officerCount(view, carrier) {
  return view.officerCounts?.[carrier] ?? null;
}

/** "1 of 3 officers signed, 2 needed". */
function signedWords(signed, threshold, officers) {
  return `${signed} of ${officers ?? threshold} officers signed${signed < threshold ? `, ${threshold} needed` : ""}`;
}

/** "CARRIER-A: 1 of 3 officers signed, 2 needed; CARRIER-B: 0 of 3 …": both carriers' signatures the node holds. */
function cosignProgress(view, progress) {
  return [progress.ours, progress.theirs]
    .map((c) => `${c.name}: ${signedWords(c.signers.length, c.threshold, officerCount(view, c.carrier))}`)
    .join("; ");
}

/**
 * A period on the co-signed fast path: the officer signs the node's Settlement — its own summary's root
 * and totals, valid until the commit window closes — which settles the period in one transaction once
 * the partner's officers signed the same figures (the running node exchanges and submits).
 */
async function cosign(stage, context) {
  const { view, agreement, period, amount } = context;
  const { progress, ...typed } = await api.get(periodPath(agreement, period, "/fast-path/settlement"));
  const m = typed.message;
  const words = [
    `Co-sign the settlement of ${view.agreement} ${period} by the fast path, as your node's summary has it: `,
    `A (${view.sides.A.name}) owes B ${amount(m.amountAB)}; B (${view.sides.B.name}) owes A ${amount(m.amountBA)}; `,
    "summary root ",
    h("code", m.root),
    `. Valid until ${when(m.deadline)}, when the commit window closes. It settles only if ` +
      `${progress.theirs.name}'s officers sign exactly the same figures; otherwise the node commits and the ` +
      `period goes on by commit–reveal. So far: ${cosignProgress(view, progress)}.`,
  ];
  confirm(stage, "You co-sign the settlement, as an officer of your carrier", words, typed, async (who) => {
    const signature = await who.signTypedData(typed);
    const result = await api.post(periodPath(agreement, period, "/fast-path/signatures"), {
      settlement: m,
      signature,
    });
    flash(`Your signature is kept: ${cosignProgress(view, result.progress)}.`);
    await context.reload();
  });
}

function openForm(stage, context) {
  const counts = Object.entries(context.view.report?.counts ?? {}).sort((x, y) => y[1] - x[1]);
  const reason = h(
    "select",
    { id: "dispute-reason" },
    REASONS.map((r) => h("option", { value: r, selected: counts[0]?.[0] === r }, reasonWords(r))),
  );
  const evidence = h("input", {
    id: "evidence-cid",
    placeholder: "bafkrei… (seal calls from the report below, or paste a CID)",
  });
  // Calls sealed from the report below are cited first; else this node's sealed discrepancy report.
  const reportCid = context.view.report?.evidenceCid ?? null;
  const cited = context.evidenceCid ?? reportCid;
  if (cited) evidence.value = cited;
  const hint = context.evidenceCid
    ? "The calls you sealed from the report below."
    : reportCid
      ? "This node's sealed discrepancy report (every differing day and this node's calls behind it); seal particular calls from the report below to cite those instead."
      : null;
  show(
    stage,
    h(
      "div.panel",
      h("h3", "Open a dispute"),
      h("label", { for: "dispute-reason" }, "Reason"),
      reason,
      h("label", { for: "evidence-cid" }, "Evidence (CID of a sealed bundle)"),
      evidence,
      hint ? h("p.muted", { id: "evidence-hint" }, hint) : null,
      h(
        "div.actions",
        h(
          "button.primary",
          {
            id: "plan-dispute",
            onclick: () =>
              attempt(() =>
                plan(stage, context, {
                  step: "open",
                  reason: reason.value,
                  evidenceCid: evidence.value.trim() || undefined,
                }),
              ),
          },
          "Review what will be signed",
        ),
      ),
    ),
  );
}

function figuresForm(stage, context, step) {
  const d = context.view.token.decimals;
  const current = context.view.dispute?.proposed ?? context.view.local ?? null;
  const ab = h("input", {
    id: "amount-ab",
    value: current ? plainAmount(current.amountAB, d) : "",
  });
  const ba = h("input", {
    id: "amount-ba",
    value: current ? plainAmount(current.amountBA, d) : "",
  });
  // A ruling's reasons are typed as text: the node stores them as public evidence and the ruling carries
  // their CID. A proposal may cite a sealed bundle by its CID.
  const ruling = step === "rule";
  const evidence = ruling
    ? h("textarea", {
        id: "rationale",
        rows: 6,
        maxlength: RATIONALE_CHARS,
        placeholder: "Why these figures: what the evidence shows, which claim it supports.",
      })
    : h("input", { id: "evidence-cid", placeholder: "optional: bafkrei…" });
  show(
    stage,
    h(
      "div.panel",
      h("h3", ruling ? "Rule on the figures" : "Propose figures"),
      h("label", { for: "amount-ab" }, `A owes B (${context.view.token.symbol})`),
      ab,
      h("label", { for: "amount-ba" }, `B owes A (${context.view.token.symbol})`),
      ba,
      ruling
        ? h("label", { for: "rationale" }, "Rationale")
        : h("label", { for: "evidence-cid" }, "Evidence (CID)"),
      evidence,
      h(
        "div.actions",
        h(
          "button.primary",
          {
            id: "plan-figures",
            onclick: () =>
              attempt(() =>
                plan(stage, context, {
                  step,
                  amountAB: parseAmount(ab.value, d),
                  amountBA: parseAmount(ba.value, d),
                  ...(ruling
                    ? { rationale: evidence.value.trim() || undefined }
                    : { evidenceCid: evidence.value.trim() || undefined }),
                }),
              ),
          },
          "Review what will be signed",
        ),
      ),
    ),
  );
}

async function plan(stage, context, body) {
  const planned = await api.post(periodPath(context.agreement, context.period, "/disputes/plan"), body);
  const tx = planned.transaction;
  confirm(
    stage,
    `You send ${planned.fn} to the ledger from your own account`,
    planned.description,
    {
      function: planned.fn,
      from: tx.from,
      to: tx.to,
      chainId: tx.chainId,
      nonce: tx.nonce,
      gasLimit: tx.gasLimit,
      maxFeePerGas: tx.maxFeePerGas,
      data: tx.data,
    },
    async (who) => {
      const result = await who.sendTransaction(tx);
      if (result.status === "reverted")
        throw new Error(`the ledger refused the transaction ${result.txHash}`);
      flash(
        result.status === "confirmed"
          ? `Done: ${planned.fn} in block ${result.blockNumber}; the period is now ${result.state}.`
          : `Sent ${result.txHash}; waiting for it to be mined.`,
      );
      await context.reload();
    },
  );
}
