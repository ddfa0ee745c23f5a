/**
 * Who signs: the person's own Ethereum key, never the gateway's. Two ways to hold it:
 *
 * - a browser wallet (window.ethereum, EIP-1193: MetaMask, Frame, a hardware wallet behind one): it
 *   shows the person what they sign, and sends transactions itself;
 * - a key typed into this page (development and demos): kept in this tab's memory only, gone on
 *   reload; ethers signs here and the gateway relays the signed transaction (it never sees the key).
 *
 * Only a key typed in can also open what is sealed to it (the arbiter's copy of evidence, arbiter-copy.js):
 * EIP-1193 offers no ECDH, so a browser wallet has `sharedSecret: null`.
 */
import { api } from "./api.js";

let current = null;

/** The signer in use, or null. */
export function signer() {
  return current;
}

export function forget() {
  current = null;
}

/** A browser wallet's first account. @throws Error without one. */
export async function connectWallet() {
  const provider = window.ethereum;
  if (!provider) throw new Error("no browser wallet (window.ethereum) in this browser");
  const [address] = await provider.request({ method: "eth_requestAccounts" });
  if (!address) throw new Error("the wallet offered no account");
  current = {
    kind: "wallet",
    address: window.ethers.getAddress(address),
    publicKey: null,
    sharedSecret: null,
    signMessage: (message) =>
      provider.request({
        method: "personal_sign",
        params: [window.ethers.hexlify(window.ethers.toUtf8Bytes(message)), address],
      }),
    signTypedData: (typed) =>
      provider.request({ method: "eth_signTypedData_v4", params: [address, JSON.stringify(typed)] }),
    async sendTransaction(tx) {
      const hash = await provider.request({
        method: "eth_sendTransaction",
        params: [
          {
            from: tx.from,
            to: tx.to,
            data: tx.data,
            gas: hex(tx.gasLimit),
            maxFeePerGas: hex(tx.maxFeePerGas),
            maxPriorityFeePerGas: hex(tx.maxPriorityFeePerGas),
          },
        ],
      });
      return { txHash: hash, status: "pending", state: null };
    },
  };
  return current;
}

/** A key typed in (0x and 64 hex digits). @throws Error for anything else. */
export function connectKey(privateKey) {
  let wallet;
  try {
    wallet = new window.ethers.Wallet(privateKey.trim());
  } catch {
    throw new Error("that is not a private key (0x and 64 hex digits)");
  }
  current = {
    kind: "key",
    address: wallet.address,
    publicKey: wallet.signingKey.publicKey,
    /** The ECDH point with `publicKey` (0x04…), for opening what is sealed to this key. */
    sharedSecret: (publicKey) => wallet.signingKey.computeSharedSecret(publicKey),
    signMessage: (message) => wallet.signMessage(message),
    signTypedData: (typed) => {
      const types = { ...typed.types };
      delete types.EIP712Domain;
      return wallet.signTypedData(typed.domain, types, typed.message);
    },
    async sendTransaction(tx) {
      const raw = await wallet.signTransaction({
        type: 2,
        chainId: BigInt(tx.chainId),
        nonce: tx.nonce,
        to: tx.to,
        data: tx.data,
        gasLimit: BigInt(tx.gasLimit),
        maxFeePerGas: BigInt(tx.maxFeePerGas),
        maxPriorityFeePerGas: BigInt(tx.maxPriorityFeePerGas),
        value: 0n,
      });
      return api.post("/api/v1/chain/transactions", { raw });
    },
  };
  return current;
}

const hex = (value) => "0x" + BigInt(value).toString(16);
