/**
 * Sign-in by signing a challenge (EIP-4361) with one's own Ethereum key: the gateway knows officers,
 * arbiters and regulators from the chain; nobody has a password here. The message is shown before it
 * is signed.
 */
import { api } from "../api.js";
import { flash, h, mount, reveal } from "../dom.js";
import { attempt, signedIn } from "../main.js";
import { connectKey, connectWallet } from "../wallet.js";

export async function signInPage(app) {
  const keyInput = h("input", {
    id: "private-key",
    type: "password",
    autocomplete: "off",
    spellcheck: "false",
    placeholder: "0x… (64 hex digits)",
  });
  const step = h("div");

  async function challenge(who) {
    const { message } = await api.post("/api/v1/auth/challenge", { address: who.address });
    mount(
      step,
      h(
        "div.panel.signing",
        h("h2", "You are about to sign"),
        h(
          "p.muted",
          "This signature proves you hold the key of ",
          h("code", who.address),
          ". It moves no money.",
        ),
        h("pre", { id: "challenge-message" }, message),
        h(
          "div.actions",
          h(
            "button.primary",
            {
              id: "sign-challenge",
              onclick: () =>
                attempt(async () => {
                  const signature = await who.signMessage(message);
                  const principal = await api.post("/api/v1/auth/sign-in", { message, signature });
                  flash(`Signed in as ${principal.roles.join(", ")}`);
                  await signedIn(principal);
                }),
            },
            "Sign and sign in",
          ),
          h("button", { onclick: () => mount(step) }, "Cancel"),
        ),
      ),
    );
    reveal(step.firstElementChild);
  }

  mount(
    app,
    h(
      "div.signin",
      h("h1", "Sign in"),
      h(
        "p",
        "Officers, arbiters and regulators sign in with the Ethereum key the ledger knows them by; operators and ",
        "admins with a key this node's configuration names. You sign a one-time message; nothing is sent to the chain.",
      ),
      h(
        "div.panel",
        h("h2", "With a browser wallet"),
        h("p.muted", "MetaMask, Frame, or a hardware wallet behind one. The wallet shows what you sign."),
        h(
          "button.primary",
          { onclick: () => attempt(async () => challenge(await connectWallet())) },
          "Connect wallet",
        ),
      ),
      h(
        "div.panel",
        h("h2", "With a key typed here (development, demos)"),
        h(
          "p.muted",
          "The key stays in this tab's memory and is forgotten on reload; it is never sent to the gateway. ",
          "Signed transactions are relayed by the gateway.",
        ),
        h("label", { for: "private-key" }, "Private key"),
        keyInput,
        h(
          "div.actions",
          h(
            "button",
            { id: "use-key", onclick: () => attempt(async () => challenge(connectKey(keyInput.value))) },
            "Use this key",
          ),
        ),
      ),
      step,
    ),
  );
}
