package io.txgw.consumer.chain;

import com.fasterxml.jackson.databind.JsonNode;
import io.txgw.common.address.Keccak;
import io.txgw.common.model.Chain;
import io.txgw.common.model.JournalEntry;
import io.txgw.common.model.Payout;
import io.txgw.consumer.rpc.Rpc;
import io.txgw.consumer.rpc.RpcException;
import io.txgw.consumer.signing.AccountSigners;
import io.txgw.consumer.signing.EthFees;
import io.txgw.consumer.signing.EthTransaction;
import io.txgw.consumer.signing.SignedTransactions;
import io.txgw.consumer.signing.SigningException;
import java.math.BigInteger;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Pays ETH. Each payout is signed with a nonce this sender assigns, so the txid is known before
 * broadcast: by a local keystore, a remote signer, or a node that holds the key, chosen per account
 * ({@link AccountSigners}), and checked to be exactly the transaction asked. It is an EIP-1559
 * (type 2) transaction where the chain has a base fee, a legacy one otherwise. A broadcast is
 * settled from chain facts only (the transaction's receipt, the account's nonce at the latest
 * block); until then the unit stays journaled and a resend is always the same bytes.
 */
public final class EthereumSender implements ChainSender {
  private static final Logger log = LoggerFactory.getLogger(EthereumSender.class);
  static final long TRANSFER_GAS = 21_000;
  private static final HexFormat HEX = HexFormat.of();

  private final Rpc rpc;
  private final Clock clock;
  private final ChainBlocks blocks;

  /**
   * Per sending account, the next nonce and the balance not spent yet; absent means "ask the node".
   */
  private final AccountBook accounts;

  /**
   * Since when each unit (by id: its transactions change with replacements) first waited first in
   * line, to tell a stranded one; bounded below.
   */
  private final Map<String, Instant> waitingSince = new HashMap<>();

  private static final int MAX_WAITING = 10_000;

  /** Transactions this process has sent, so that a look-up may spare a resend; bounded. */
  private final java.util.Set<String> sentHere = new java.util.HashSet<>();

  /**
   * Since when each unit's nonce (by unit id) is seen used in the chain without a receipt of any of
   * its transactions; bounded above.
   */
  private final Map<String, Instant> usedSince = new HashMap<>();

  /** Longer than a node in rotation may lag the best one (the pool's health check drops it). */
  static final Duration CONFLICT_AFTER = Duration.ofSeconds(60);

  private static final Duration STRANDED_AFTER = Duration.ofSeconds(10);

  private final FeeMarket market;

  /** Receipts of the transactions sent here, read a block at a time. */
  private final BlockReceipts blockReceipts;

  /** Whether recipients hold code, a round's read at once. */
  private final RecipientCode recipients;

  private final TokenTransfers tokens;

  private final java.util.function.Predicate<Payout> contractsAllowed;

  private final GasPrices prices;

  private final AccountSigners signers;

  /** The chain id every transaction is signed for; 0 until asked of the node. */
  private long chainId;

  /** Whether the node was seen to serve {@link #chainId}: nothing is signed before. */
  private boolean chainChecked;

  /** A sender that refuses every contract recipient; the node signs. */
  public EthereumSender(Rpc rpc, Clock clock) {
    this(rpc, clock, p -> false, null);
  }

  /** The node signs, for the chain it serves. */
  public EthereumSender(
      Rpc rpc,
      Clock clock,
      java.util.function.Predicate<Payout> contractsAllowed,
      BigInteger maxGasPrice) {
    this(rpc, clock, contractsAllowed, maxGasPrice, AccountSigners.nodeOnly(rpc), 0);
  }

  /**
   * @param contractsAllowed whether a payout may go to a contract (its client's policy)
   * @param maxGasPrice the highest gas price (type 2: fee cap) any transaction is signed with,
   *     first or replacement, in wei; null for none
   * @param chainId the chain every transaction is signed for, checked against the node by {@link
   *     #checkChain}; 0 takes the node's
   */
  public EthereumSender(
      Rpc rpc,
      Clock clock,
      java.util.function.Predicate<Payout> contractsAllowed,
      BigInteger maxGasPrice,
      AccountSigners signers,
      long chainId) {
    this.rpc = rpc;
    this.accounts = new AccountBook(rpc, () -> undecodedAsCoin);
    this.clock = clock;
    this.contractsAllowed = contractsAllowed;
    this.prices = new GasPrices(maxGasPrice);
    this.blocks = new EthereumBlocks(rpc);
    this.market = new FeeMarket(rpc, clock);
    this.blockReceipts = new BlockReceipts(rpc, clock);
    this.recipients = new RecipientCode(rpc);
    this.tokens = new TokenTransfers(rpc);
    this.signers = signers;
    this.chainId = chainId;
  }

  /**
   * Asks the node which chain it serves. A node on another chain than the one configured would take
   * transactions signed for none it serves, or, worse, pay on a chain nobody watches: the consumer
   * refuses to run.
   *
   * @return the chain id transactions are signed for
   * @throws IllegalStateException when the node serves another chain than the configured one
   */
  public long checkChain() throws RpcException, InterruptedException {
    long served = FeeMarket.quantity(rpc.call("eth_chainId")).longValueExact();
    if (chainId != 0 && chainId != served) {
      throw new IllegalStateException(
          "the Ethereum node "
              + nodeName()
              + " serves chain id "
              + served
              + ", this consumer signs for chain id "
              + chainId);
    }
    chainId = served;
    chainChecked = true;
    onChain.accept(served);
    return served;
  }

  private java.util.function.LongConsumer onChain = id -> {};

  /** Told the chain id once the node was seen to serve it: the pool then admits no other. */
  public EthereumSender onChainChecked(java.util.function.LongConsumer hook) {
    this.onChain = hook;
    return this;
  }

  private long chainId() throws RpcException, InterruptedException {
    return chainChecked ? chainId : checkChain();
  }

  @Override
  public Chain chain() {
    return Chain.ETH;
  }

  @Override
  public String nodeName() {
    return rpc.name();
  }

  @Override
  public ChainBlocks blocks() {
    return blocks;
  }

  @Override
  public int maxPayoutsPerUnit() {
    return multiSend == null ? 1 : multiSendMax;
  }

  /**
   * Whether a unit whose journaled bytes do not decode is replaced as a coin transfer of its one
   * payout: only for a node that packs transactions in a format of its own (the simulated one);
   * every signer here returns bytes that decode, checked before they are journaled.
   */
  private boolean undecodedAsCoin;

  /** For the simulation's node, whose "signed" bytes are its own format. */
  public EthereumSender replacingUndecodedAsCoin() {
    this.undecodedAsCoin = true;
    return this;
  }

  /** The multi-send contract, null when payouts are paid one transaction each. */
  private String multiSend;

  private int multiSendMax = 1;

  /**
   * Pays up to {@code max} payouts of one account and one asset in one call of the multi-send
   * contract at {@code contract} ({@code deploy/contracts/TxgwMultiSend.sol}), journaled as one
   * unit: all are paid or none. A call the node says would revert is not signed; its payouts are
   * then prepared one by one (SendRound), so one bad recipient fails alone.
   */
  public EthereumSender withMultiSend(String contract, int max) {
    if (max < 2) {
      throw new IllegalArgumentException("a multi-send call pays 2 payouts or more");
    }
    this.multiSend = contract.toLowerCase(java.util.Locale.ROOT);
    this.multiSendMax = max;
    return this;
  }

  @Override
  public int maxUnitsPerRound() {
    // Nonces only; a round is one journal transaction, so larger rounds cost fewer.
    return 500;
  }

  @Override
  public void rebalanced() {
    // A conflict is declared after CONFLICT_AFTER of sightings; a gap without any must not count.
    usedSince.clear();
    waitingSince.clear();
    recentNonces.clear();
  }

  @Override
  public void reset() {
    sentHere.clear();
    recentNonces.clear();
    fresh.clear();
    accounts.reset();
    tokens.reset();
    waitingSince.clear();
    usedSince.clear();
    blockReceipts.reset();
    recipients.clear();
    signedHere.clear();
    emptiedAt.clear();
    poolMethods = true;
  }

  @Override
  public void preview(List<Payout> singles) throws InterruptedException {
    recipients.preview(
        singles.stream()
            .filter(p -> p.asset().isNative() && !contractsAllowed.test(p))
            .map(p -> p.to().value())
            .toList());
  }

  @Override
  public Preparation prepare(String source, List<Payout> payouts)
      throws NodeUnavailableException, InterruptedException {
    if (payouts.size() > 1) {
      if (multiSend == null || payouts.size() > multiSendMax) {
        throw new IllegalArgumentException("more payouts than one Ethereum transaction pays");
      }
      return prepareMany(source, payouts);
    }
    Payout payout = payouts.get(0);
    // A token payout calls the token's transfer(to, amount) and moves no coin.
    boolean token = !payout.asset().isNative();
    BigInteger units = payout.amount().toUnits(payout.asset().decimals());
    String target = token ? payout.asset().contract() : payout.to().value();
    BigInteger value = token ? BigInteger.ZERO : units;
    String data = token ? TokenTransfers.transferData(payout.to().value(), units) : "0x";
    long gas = TRANSFER_GAS;
    EthFees fees;
    long id;
    AccountFunds funds;
    BigInteger cost;
    try {
      if (multiSend != null && payout.to().value().equalsIgnoreCase(multiSend)) {
        // It keeps nothing sent to it on purpose: tokens would be locked there, ether refused.
        return new Preparation.Refused(
            "invalid: the recipient is the multi-send contract, which holds nothing", true);
      }
      if (token || multiSend != null) {
        contractsChecked();
      }
      // A token's transfer runs no code of its recipient: any address may hold tokens.
      if (!token && !contractsAllowed.test(payout) && recipients.isContract(payout.to().value())) {
        // Refused before anything is signed, whatever else the round holds: sent with a plain
        // transfer's gas, the contract's code would run out of it and the transaction revert,
        // spending the fee for nothing.
        return new Preparation.Refused(
            "not-permitted: the recipient is a contract, which this client may not pay with a"
                + " native transfer",
            true);
      }
      if (token) {
        if (payout.to().value().equalsIgnoreCase(target)) {
          return new Preparation.Refused(
              "invalid: the recipient is the token's own contract, where tokens sent are lost",
              true);
        }
        BigInteger held = tokens.left(source, target, false);
        if (held == null) {
          return new Preparation.Refused(
              "the token at " + target + " answers no balance (balanceOf): is it a token?", true);
        }
        BigInteger fresh = held.compareTo(units) < 0 ? tokens.left(source, target, true) : held;
        if (fresh == null || fresh.compareTo(units) < 0) {
          return Preparation.Refused.insufficient(
              "insufficient funds: the account holds "
                  + tokens.left(source, target, false)
                  + " "
                  + payout.asset().symbol()
                  + " units not yet spent by transactions signed before, the payout needs "
                  + units);
        }
        TokenTransfers.Gas estimated = tokens.estimate(source, target, data);
        if (estimated.refusal() != null) {
          return new Preparation.Refused(estimated.refusal());
        }
        gas = estimated.gas();
      }
      fees = market.now().fees(prices);
      cost = EthTransaction.cost(value, gas, fees);
      id = chainId();
      funds = accounts.funds(source);
      if (funds.left().compareTo(cost) < 0) {
        // Asked again once: the account may have been topped up since it was last read.
        funds = accounts.read(source);
        if (funds.left().compareTo(cost) < 0) {
          return Preparation.Refused.insufficient(
              "insufficient funds: the account holds "
                  + funds.left()
                  + " wei not yet spent by transactions signed before, the payout needs "
                  + cost
                  + " wei with gas");
        }
      }
    } catch (RpcException e) {
      // A read that failed, whatever the node said: nothing is known, nothing was signed. What
      // this sender knows of the account stays: transactions it signed this round hold nonces.
      throw new NodeUnavailableException(
          "cannot prepare payout " + payout.id() + " on " + nodeName() + ": " + e.getMessage(), e);
    }
    long nonce = funds.next();
    EthTransaction tx =
        new EthTransaction(id, nonce, payout.source(), target, value, gas, fees, data);
    String raw;
    try {
      raw = signers.sign(tx);
    } catch (SigningException e) {
      if (e.lasting()) {
        // No signer holds the key, or one signed something else: nothing exists that could be
        // mined, and the nonce is still free.
        return new Preparation.Refused(e.getMessage());
      }
      throw new NodeUnavailableException(
          "cannot sign payout " + payout.id() + ": " + e.getMessage(), e);
    }
    String txid = txidOf(raw);
    signed(txid);
    funds.spend(nonce, cost);
    if (token) {
      tokens.spend(source, target, nonce, units);
    }
    return new Preparation.Signed(txid, raw, nonce, List.of(), fees.cap());
  }

  /**
   * Checks the contracts this sender calls against the chain: the multi-send address holds the
   * contract's code (both its functions), each token answers {@code decimals()} as configured. A
   * mismatch refuses to run: a wrong address would take payouts' money and tell nothing, wrong
   * decimals would pay another amount.
   *
   * @throws IllegalStateException naming what does not match
   */
  public void checkContracts(java.util.Collection<io.txgw.common.model.Asset> configured)
      throws RpcException, InterruptedException {
    this.tokensConfigured = List.copyOf(configured);
    checkContracts();
  }

  /** The tokens {@link #checkContracts} checks; none until told. */
  private List<io.txgw.common.model.Asset> tokensConfigured = List.of();

  /** Whether the contracts were seen right on this chain: nothing is signed for them before. */
  private boolean contractsChecked;

  /** Checks them first when they could not be at start (the node did not answer then). */
  private void contractsChecked() throws RpcException, InterruptedException {
    if (!contractsChecked) {
      checkContracts();
    }
  }

  private void checkContracts() throws RpcException, InterruptedException {
    java.util.Collection<io.txgw.common.model.Asset> configured = tokensConfigured;
    if (multiSend != null) {
      JsonNode code = rpc.call("eth_getCode", multiSend, "latest");
      String hex = code == null ? "" : code.asText("").toLowerCase(java.util.Locale.ROOT);
      if (!hex.contains(MultiSend.SEND_TOKEN.substring(2))
          || !hex.contains(MultiSend.SEND_ETHER.substring(2))) {
        throw new IllegalStateException(
            "TXGW_ETH_MULTISEND " + multiSend + " holds no multi-send contract on this chain");
      }
    }
    for (io.txgw.common.model.Asset asset : configured) {
      com.fasterxml.jackson.databind.node.ObjectNode call =
          io.txgw.common.json.Json.mapper().createObjectNode();
      call.put("to", asset.contract());
      call.put("data", "0x313ce567"); // decimals()
      String word;
      try {
        word = rpc.call("eth_call", call, "latest").asText("");
      } catch (RpcException e) {
        if (e.kind() != RpcException.Kind.NODE_ERROR) {
          throw e;
        }
        word = "";
      }
      if (!word.matches("0x[0-9a-fA-F]{64}")
          || new BigInteger(word.substring(2), 16).intValue() != asset.decimals()
          || new BigInteger(word.substring(2), 16).bitLength() > 8) {
        throw new IllegalStateException(
            "TXGW_ASSETS: "
                + asset.symbol()
                + " at "
                + asset.contract()
                + " does not answer decimals() "
                + asset.decimals()
                + " on this chain (it answered "
                + word
                + ")");
      }
    }
    contractsChecked = true;
  }

  /** Per payout at most this much gas in a multi-send call: a token transfer's cap. */
  private static final long GAS_PER_PAYOUT = TokenTransfers.GAS_CAP;

  /**
   * The most gas one transaction may use where EIP-7825 holds (2^24), less a margin: above it nodes
   * refuse the transaction, and a journaled one would hold its account's nonce for ever.
   */
  static final long MAX_CALL_GAS = 16_000_000;

  /**
   * What a multi-send call of {@code payouts} may use: their share, under the per-transaction limit
   * and half the head block's gas limit (a call needing more is refused, and its payouts go one by
   * one).
   */
  private static long callGasCap(int payouts, FeeMarket.Market market) {
    long cap = Math.min(GAS_PER_PAYOUT * payouts, MAX_CALL_GAS);
    return market.blockGasLimit() > 0 ? Math.min(cap, market.blockGasLimit() / 2) : cap;
  }

  /**
   * One call of the multi-send contract paying every payout: all of one account and one asset (the
   * round plans them so).
   */
  private Preparation prepareMany(String source, List<Payout> payouts)
      throws NodeUnavailableException, InterruptedException {
    io.txgw.common.model.Asset asset = payouts.get(0).asset();
    List<String> to = new java.util.ArrayList<>();
    List<BigInteger> amounts = new java.util.ArrayList<>();
    for (Payout p : payouts) {
      if (!p.asset().equals(asset)) {
        throw new IllegalArgumentException("a multi-send call pays one asset");
      }
      if (p.to().value().equalsIgnoreCase(multiSend)) {
        // Sent to itself, it would move nothing: refused alone, with a reason.
        return new Preparation.Refused("a recipient is the multi-send contract: each alone");
      }
      to.add(p.to().value());
      amounts.add(p.amount().toUnits(asset.decimals()));
    }
    boolean token = !asset.isNative();
    BigInteger total = amounts.stream().reduce(BigInteger.ZERO, BigInteger::add);
    try {
      contractsChecked();
    } catch (RpcException e) {
      throw new NodeUnavailableException("cannot check the contracts: " + e.getMessage(), e);
    }
    String data =
        token
            ? MultiSend.tokenCall(asset.contract(), to, amounts)
            : MultiSend.etherCall(to, amounts);
    BigInteger value = token ? BigInteger.ZERO : total;
    EthFees fees;
    long id;
    long gas;
    AccountFunds funds;
    BigInteger cost;
    try {
      if (token) {
        BigInteger held = tokens.left(source, asset.contract(), false);
        if (held == null || held.compareTo(total) < 0) {
          return new Preparation.Refused("insufficient funds for one call of all: each alone");
        }
        if (!tokens.unlimited(source, asset.contract(), multiSend)) {
          return new Preparation.Refused(
              "the multi-send contract is not approved to move " + asset.symbol() + ": each alone");
        }
      }
      FeeMarket.Market now = market.now();
      TokenTransfers.Gas estimated =
          tokens.estimate(source, multiSend, data, value, callGasCap(payouts.size(), now));
      if (estimated.refusal() != null) {
        return new Preparation.Refused(estimated.refusal());
      }
      gas = estimated.gas();
      fees = now.fees(prices);
      cost = EthTransaction.cost(value, gas, fees);
      id = chainId();
      funds = accounts.funds(source);
      if (funds.left().compareTo(cost) < 0) {
        return new Preparation.Refused("insufficient funds for one call of all: each alone");
      }
    } catch (RpcException e) {
      throw new NodeUnavailableException(
          "cannot prepare " + payouts.size() + " payouts on " + nodeName() + ": " + e.getMessage(),
          e);
    }
    long nonce = funds.next();
    String raw;
    try {
      raw = signers.sign(new EthTransaction(id, nonce, source, multiSend, value, gas, fees, data));
    } catch (SigningException e) {
      if (e.lasting()) {
        return new Preparation.Refused(e.getMessage());
      }
      throw new NodeUnavailableException("cannot sign a multi-send call: " + e.getMessage(), e);
    }
    funds.spend(nonce, cost);
    if (token) {
      tokens.spend(source, asset.contract(), nonce, total);
    }
    signed(txidOf(raw));
    return new Preparation.Signed(txidOf(raw), raw, nonce, List.of(), fees.cap());
  }

  private static String txidOf(String raw) {
    return "0x" + HEX.formatHex(Keccak.hash256(HEX.parseHex(raw.substring(2))));
  }

  @Override
  public void following(List<JournalEntry> units) {
    accounts.following(units);
  }

  @Override
  public boolean remembers(String account) {
    return accounts.remembers(account);
  }

  @Override
  public void forget(String account) {
    accounts.forget(account);
    tokens.forget(account);
  }

  /**
   * Signs the unit's payment again at its nonce with a higher gas price: the larger of 12.5% over
   * its current one and the node's gas price now, capped at the ceiling. At the ceiling already, or
   * past {@link JournalEntry#MAX_REPLACED} replacements, it waits as it is.
   */
  @Override
  public Replacement replace(JournalEntry unit)
      throws NodeUnavailableException, InterruptedException {
    if (unit.nonce() == null
        || (unit.payouts().size() != 1
            && JournaledAttempts.decoded(unit, unit.rawTransaction()) == null)) {
      return new Replacement.NotNow("not a transaction this sender signed");
    }
    try {
      EthFees old = JournaledAttempts.dearest(unit);
      if (old == null) {
        // A unit journaled before fees were kept: the transaction itself says, where held.
        JsonNode tx = rpc.call("eth_getTransactionByHash", unit.txid());
        if (tx == null || tx.isNull() || !tx.path("gasPrice").isTextual()) {
          return new Replacement.NotNow("the node does not hold " + unit.txid());
        }
        old = new EthFees.Legacy(FeeMarket.quantity(tx.path("gasPrice")));
      }
      if (unit.replaced().size() >= JournalEntry.MAX_REPLACED) {
        return new Replacement.AtCeiling(old.cap());
      }
      market.refresh();
      FeeMarket.Market now = market.now();
      if (!GasPrices.underpriced(old, now)) {
        // Priced at what the market asks now: not mined for another reason (queued behind an
        // earlier nonce, or not pooled yet); a dearer copy would pay more for nothing.
        return new Replacement.NotNow("its fees are at or above the market's, " + now);
      }
      java.util.Optional<EthFees> wanted = prices.replacing(old, now);
      if (wanted.isEmpty()) {
        return new Replacement.AtCeiling(old.cap());
      }
      // The same payment: recipient (or token), value, gas and call data as journaled.
      SignedTransactions.Decoded current = JournaledAttempts.decoded(unit, unit.rawTransaction());
      EthTransaction tx;
      if (current != null) {
        tx =
            new EthTransaction(
                chainId(),
                unit.nonce(),
                unit.source(),
                current.to(),
                current.value(),
                current.gas(),
                wanted.get(),
                current.data());
      } else if (!undecodedAsCoin) {
        // Its bytes say nothing readable of what it pays: never guessed.
        return new Replacement.NotNow(
            "its journaled bytes are not a transaction this sender reads");
      } else {
        JournalEntry.Item item = unit.payouts().get(0);
        tx =
            new EthTransaction(
                chainId(),
                unit.nonce(),
                unit.source(),
                item.to().value(),
                item.amount().toUnits(Chain.ETH.nativeAsset().decimals()),
                TRANSFER_GAS,
                wanted.get(),
                "0x");
      }
      String raw = signers.sign(tx);
      AccountFunds funds = accounts.known(unit.source());
      if (funds != null) {
        funds.repriced(unit.nonce(), tx.cost());
      }
      return new Replacement.Signed(txidOf(raw), raw, wanted.get().cap());
    } catch (SigningException e) {
      return new Replacement.NotNow("not signed: " + e.getMessage());
    } catch (RpcException e) {
      throw unavailable(unit, e);
    }
  }

  /**
   * Sends the journaled bytes, then settles the unit from the chain alone: mined (a receipt), never
   * to be mined (the account's nonce at the latest block passed this one without it), or not yet
   * (wait and send the same bytes again later). What the node answered to the send, and how it
   * words a refusal, decides nothing: nodes differ in both.
   */
  @Override
  public SendOutcome broadcast(JournalEntry unit)
      throws NodeUnavailableException, InterruptedException {
    blockReceipts.refresh();
    if (sentHere.contains(unit.txid())) {
      // Sent before by this process: mined since is the common case, and needs no resend. The
      // blocks read since it was sent tell, without a call for it alone; while they hold it not,
      // for a few blocks, it waits as it is.
      for (String txid : unit.txids()) {
        JsonNode receipt = blockReceipts.receipt(txid);
        if (receipt != null) {
          return mined(unit, receipt, txid);
        }
      }
      if (blockReceipts.covers(unit.txid())
          && !blockReceipts.due(unit.txid())
          && !waitingSince.containsKey(unit.unitId())
          && !poolEmptiedSince(unit)) {
        return inFlight(unit)
            ? SendOutcome.inFlight(unit.txid(), "sent here, in no block read since")
            : SendOutcome.waiting(unit.txid(), "sent, in no block read since");
      }
      // Looked at again: from now on it is a unit that waits, not one just sent.
      fresh.remove(unit.unitId());
      blockReceipts.forget(unit.txids());
      try {
        SendOutcome mined = minedAny(unit);
        if (mined != null) {
          return mined;
        }
      } catch (RpcException e) {
        if (e.kind() != RpcException.Kind.NODE_ERROR) {
          throw unavailable(unit, e);
        }
      }
    }
    boolean unmined = false;
    if (!sentHere.contains(unit.txid())
        && !signedHere.contains(unit.txid())
        && unit.nonce() != null) {
      // Neither signed nor sent by this process since its last reset: another consumer's unit, or
      // this one's before. The account's nonce count at the latest block, asked once for all its
      // units in a pass, sorts them: one that can be mined already is looked up and not sent
      // again; one that cannot was in no block when it was asked, so after its send the blocks
      // read tell.
      try {
        if (unit.nonce() < recentlyMinedNonces(unit.source())) {
          SendOutcome mined = minedAny(unit);
          if (mined != null) {
            return mined;
          }
        } else {
          unmined = true;
          // Seen free: a wait before a conflict starts over when it is seen used again.
          usedSince.remove(unit.unitId());
        }
      } catch (RpcException e) {
        if (e.kind() != RpcException.Kind.NODE_ERROR) {
          throw unavailable(unit, e);
        }
      }
    }
    // Units this consumer no longer owns can leave theirs here; forgetting all costs look-ups.
    bound(sentHere);
    boolean first = sentHere.add(unit.txid());
    String said = null;
    try {
      JsonNode hash =
          ahead == null
              ? rpc.call("eth_sendRawTransaction", unit.rawTransaction())
              : ahead.send(unit);
      if (hash == null || !unit.txid().equalsIgnoreCase(hash.asText())) {
        log.warn("unit {}: node answered hash {} for {}", unit.unitId(), hash, unit.txid());
      }
    } catch (RpcException e) {
      if (!e.kind().outcomeUnknown() && e.kind() != RpcException.Kind.NODE_ERROR) {
        // The node never saw the request: not sent, whatever the blocks read since say of it (its
        // send may have started ahead of its turn, followed from then on).
        if (first) {
          sentHere.remove(unit.txid());
        }
        throw unavailable(unit, e);
      }
      said = e.getMessage();
      log.debug("unit {}: send answered {}", unit.unitId(), e.toString());
    }
    if (first && said == null && unmined && watch(unit)) {
      return SendOutcome.waiting(unit.txid(), "sent again, in no block when asked");
    }
    try {
      return settle(unit, said, first);
    } catch (RpcException e) {
      // A look-up that failed tells nothing: the unit stays journaled and is settled later.
      if (e.kind() == RpcException.Kind.NODE_ERROR) {
        return SendOutcome.waiting(unit.txid(), "the node could not be asked: " + e.getMessage());
      }
      throw unavailable(unit, e);
    }
  }

  /**
   * The unit settled by a receipt of any of its transactions (they share one nonce: at most one is
   * ever mined); null while none has one.
   */
  private SendOutcome minedAny(JournalEntry unit) throws RpcException, InterruptedException {
    for (String txid : unit.txids()) {
      JsonNode receipt = receipt(txid);
      if (receipt != null) {
        return mined(unit, receipt, txid);
      }
    }
    return null;
  }

  private SendOutcome settle(JournalEntry unit, String said, boolean first)
      throws RpcException, InterruptedException {
    boolean signedNow = signedHere.remove(unit.txid());
    if (first && said == null && signedNow && !blockReceipts.minesAtOnce() && watch(unit)) {
      // Just taken: the blocks read from now on tell when it is mined, and whether another
      // transaction took its nonce is asked should they not.
      return justSent(unit);
    }
    SendOutcome mined = minedAny(unit);
    if (mined != null) {
      return mined;
    }
    if (first && said == null) {
      // Just taken and not in a block yet, the usual moment before mining: the blocks read from
      // now on tell (the look-up came after the send), and whether another transaction took its
      // nonce is asked should they not.
      watch(unit);
      return signedNow ? justSent(unit) : SendOutcome.waiting(unit.txid(), "sent, not mined yet");
    }
    long nonce = unit.nonce();
    long used = minedNonces(unit.source());
    if (used > nonce) {
      // Asked after the nonce count, so a receipt of ours in any block up to that count shows,
      // unless the node that answered lags the one that counted. The absence must last longer
      // than any node in rotation may lag before this unit's payouts are prepared anew. Every
      // transaction the unit ever had is asked for: a replaced one may be the one mined.
      mined = minedAny(unit);
      if (mined != null) {
        return mined;
      }
      Instant now = clock.instant();
      bound(usedSince);
      // By unit, not by transaction: a sighting of an attempt since replaced must not count.
      Instant since = usedSince.putIfAbsent(unit.unitId(), now);
      if (since == null || now.isBefore(since.plus(CONFLICT_AFTER))) {
        return SendOutcome.waiting(
            unit.txid(),
            "nonce "
                + nonce
                + " is used in the chain and no receipt of this transaction shows"
                + " yet; another transaction took it if none shows for "
                + CONFLICT_AFTER);
      }
      usedSince.remove(unit.unitId());
      waitingSince.remove(unit.unitId());
      fresh.remove(unit.unitId());
      unit.txids().forEach(sentHere::remove);
      blockReceipts.forget(unit.txids());
      return SendOutcome.conflicted(
          unit.txid(),
          "nonce " + nonce + " was used in the chain by another transaction; nothing was paid");
    }
    // The nonce is free again (a reorganisation took the block that used it): a sighting of it
    // used says nothing any more, and the wait before a conflict starts over when it is seen
    // used again.
    usedSince.remove(unit.unitId());
    if (used == nonce && poolMethods && stranded(unit)) {
      // First in line for a while and still not mined: a development node's pool can strand an
      // account's transactions. anvil, seen here, holds them "queued" behind a predecessor it
      // never learns was mined, after they arrived out of nonce order (two consumers across a
      // takeover, or an earlier nonce being replaced), and then answers a resend "already
      // imported". The account's pooled transactions are all removed, and this one sent again at
      // once; the account's later units send their same bytes again after it in this round.
      log.warn("unit {}: not mined at nonce {}; sending it again", unit.unitId(), nonce);
      if (dropFromPool(unit)) {
        // Every transaction the unit ever had, dearest first: the pool takes one at this nonce,
        // and an earlier one it held (the current one refused, say, for its higher fee cap) is
        // not left out. They all pay the same, and one at most is ever mined.
        List<String> attempts = new java.util.ArrayList<>();
        attempts.add(unit.rawTransaction());
        for (int i = unit.replaced().size() - 1; i >= 0; i--) {
          attempts.add(unit.replaced().get(i).rawTransaction());
        }
        for (String raw : attempts) {
          if (raw == null) {
            continue;
          }
          try {
            rpc.call("eth_sendRawTransaction", raw);
          } catch (RpcException e) {
            // Decides nothing (wordings differ), but tells an operator why the node holds it not.
            log.warn("unit {}: the node answered the resend: {}", unit.unitId(), e.getMessage());
          }
        }
        mined = minedAny(unit);
        if (mined != null) {
          return mined;
        }
      }
    }
    // Asked directly and not mined: the blocks read from now on tell, for a few blocks.
    watch(unit);
    return SendOutcome.pending(
        unit.txid(),
        "not mined yet: the account's nonce at the latest block is "
            + used
            + ", this transaction's "
            + nonce
            + (said == null ? "" : "; the node answered the send: " + said));
  }

  /**
   * A receipt of {@code txid}, one of the unit's transactions, is final for this step: status 1
   * paid, status 0 reverted (nothing paid).
   */
  private SendOutcome mined(JournalEntry unit, JsonNode receipt, String txid) {
    unit.txids().forEach(sentHere::remove);
    blockReceipts.forget(unit.txids());
    fresh.remove(unit.unitId());
    waitingSince.remove(unit.unitId());
    usedSince.remove(unit.unitId());
    AccountFunds funds = accounts.known(unit.source());
    if (funds != null) {
      funds.mined(unit.nonce());
    }
    tokens.mined(unit.source(), unit.nonce());
    String status = receipt.path("status").asText("0x1");
    BlockRef block = blockOf(receipt);
    if ("0x0".equals(status)) {
      return SendOutcome.reverted(txid, "transaction " + txid + " reverted in the chain", block);
    }
    SignedTransactions.Decoded tx =
        JournaledAttempts.decoded(unit, JournaledAttempts.rawOf(unit, txid));
    String unpaid = tx == null ? null : TokenTransfers.unpaid(receipt, tx);
    if (unpaid != null) {
      log.warn("unit {}: {}", unit.unitId(), unpaid);
      return SendOutcome.unknown(txid, unpaid);
    }
    return SendOutcome.mined(txid, block);
  }

  /**
   * The block a receipt names; null when it names none that can be read (then it is looked for).
   */
  static BlockRef blockOf(JsonNode receipt) {
    String hash = receipt.path("blockHash").asText(null);
    String number = receipt.path("blockNumber").asText(null);
    if (hash == null || number == null || !number.startsWith("0x") || number.length() < 3) {
      return null;
    }
    try {
      return new BlockRef(Long.parseLong(number.substring(2), 16), hash.toLowerCase(Locale.ROOT));
    } catch (NumberFormatException e) {
      return null;
    }
  }

  /**
   * Has every transaction of the unit followed in the blocks read from now on; false when the
   * blocks are not followed now (then it is asked for directly each time round).
   */
  private boolean watch(JournalEntry unit) {
    if (!sentHere.contains(unit.txid()) || !blockReceipts.watch(unit.txid())) {
      return false;
    }
    for (String txid : unit.txids()) {
      if (!txid.equals(unit.txid())) {
        blockReceipts.watch(txid);
      }
    }
    return true;
  }

  /** Runs sends ahead of their turn; null sends each at its turn. */
  private java.util.concurrent.Executor sendExecutor;

  private int sendWidth = 1;

  /** The round being broadcast, while its sends may start ahead of their turn. */
  private SendsAhead ahead;

  /**
   * Lets a round's sends overlap: up to {@code width} of its units' journaled bytes on their way to
   * the node at once, started in the round's order on {@code executor} (see {@link SendsAhead}).
   * One at a time (width 1) a node's answer time, not its budget, caps the sends a second.
   */
  public EthereumSender sendingAhead(java.util.concurrent.Executor executor, int width) {
    this.sendExecutor = executor;
    this.sendWidth = width;
    return this;
  }

  @Override
  public Round broadcasting(List<JournalEntry> units) {
    if (sendExecutor == null
        || sendWidth <= 1
        || units.size() < 2
        || clock.instant().isBefore(oneAtATimeUntil)
        || !blockReceipts.minesInBlocks()) {
      // Only on a chain seen to mine in blocks, which holds a transaction above the account's next
      // nonce until the gap fills (geth, Erigon, Besu, Nethermind, anvil with a block time). A
      // development node that mines each transaction as it comes refuses one that arrives before
      // its predecessor (hardhat: "Nonce too high"), or never mines it (anvil, foundry#10122).
      return Round.NONE;
    }
    SendsAhead round =
        new SendsAhead(
            units,
            this::sendsAtOnce,
            // Followed from the last block read before its send: a block read before its turn may
            // hold it.
            u -> blockReceipts.watchAhead(u.txid()),
            this::sentEarly,
            raw -> rpc.call("eth_sendRawTransaction", raw),
            sendExecutor,
            sendWidth);
    ahead = round;
    return () -> {
      ahead = null;
      if (round.refused()) {
        // Whatever the node's reason (a gap it will not hold, fewer calls at once than asked), the
        // next rounds do without overlap for a while.
        oneAtATimeUntil = clock.instant().plus(ONE_AT_A_TIME_AFTER_REFUSAL);
        log.info(
            "a send failed while others were on their way; one at a time for {}",
            ONE_AT_A_TIME_AFTER_REFUSAL);
      }
      round.close();
    };
  }

  /** How long sends go one at a time after one failed while others overlapped it. */
  static final java.time.Duration ONE_AT_A_TIME_AFTER_REFUSAL = java.time.Duration.ofMinutes(1);

  private Instant oneAtATimeUntil = Instant.MIN;

  /**
   * A unit whose send started ahead of a turn that never came, and which the node took: sent. Its
   * next turn follows it through the blocks read since its send started (see {@link
   * BlockReceipts#watchAhead}), and looks it up once they have not shown it for a while, instead of
   * sending the same bytes again, which a node answers with an error and a look-up. It is not in
   * flight: the round that skipped it forgot its account.
   */
  private void sentEarly(JournalEntry unit) {
    if (!sendsAtOnce(unit)) {
      return;
    }
    bound(sentHere);
    sentHere.add(unit.txid());
    signedHere.remove(unit.txid());
    watch(unit);
  }

  /**
   * Whether the unit's turn sends it before asking the chain anything: signed by this process and
   * never sent, so it cannot have been mined (see {@link #signedHere}).
   */
  private boolean sendsAtOnce(JournalEntry unit) {
    return unit.nonce() != null
        && unit.rawTransaction() != null
        && unit.replaced().isEmpty()
        && signedHere.contains(unit.txid())
        && !sentHere.contains(unit.txid());
  }

  /**
   * Transactions signed by {@link #prepare} and not sent yet: one sent for the first time cannot
   * have been mined before, so no look-up follows its send. A unit from the journal (another
   * process's, or this one's before a reset) or a replacement (an earlier attempt may be mined) is
   * looked up at once. Bounded: cleared at {@link #MAX_WAITING}, which only costs look-ups.
   */
  private final java.util.Set<String> signedHere = new java.util.HashSet<>();

  private void signed(String txid) {
    bound(signedHere);
    signedHere.add(txid);
  }

  /**
   * Units signed and sent by this process and not looked at again since (see {@link
   * SendOutcome.Next#IN_FLIGHT}); bounded: cleared at {@link #MAX_WAITING}, which only makes their
   * partitions wait for them.
   */
  private final java.util.Set<String> fresh = new java.util.HashSet<>();

  private SendOutcome justSent(JournalEntry unit) {
    bound(fresh);
    fresh.add(unit.unitId());
    return inFlight(unit)
        ? SendOutcome.inFlight(unit.txid(), "sent, not mined yet")
        : SendOutcome.waiting(unit.txid(), "sent, not mined yet");
  }

  /**
   * True while the unit was just sent and what this sender signs next for its account cannot take
   * its nonce: the account is known here (not forgotten since, nor reset) with its next nonce above
   * the unit's. A replacement is never in flight: an earlier attempt may yet be mined.
   */
  private boolean inFlight(JournalEntry unit) {
    AccountFunds funds = accounts.known(unit.source());
    return fresh.contains(unit.unitId())
        && unit.replaced().isEmpty()
        && unit.nonce() != null
        && funds != null
        && funds.next() > unit.nonce();
  }

  /** When each account's pool was last emptied on a development node; bounded by the accounts. */
  private final Map<String, Instant> emptiedAt = new HashMap<>();

  /** True when the unit's account's pool was emptied after the unit was last sent. */
  private boolean poolEmptiedSince(JournalEntry unit) {
    Instant emptied = emptiedAt.get(unit.source());
    Instant watched = blockReceipts.watchedAt(unit.txid());
    return emptied != null && (watched == null || watched.isBefore(emptied));
  }

  /** True once the unit has waited first in line longer than a block should take. */
  private boolean stranded(JournalEntry unit) {
    Instant now = clock.instant();
    bound(waitingSince);
    Instant since = waitingSince.putIfAbsent(unit.unitId(), now);
    return since != null && !now.isBefore(since.plus(STRANDED_AFTER));
  }

  /**
   * As below, by key: a first sighting forgotten starts its wait over, a nonce count forgotten is
   * read again; either is only slower.
   */
  private static void bound(Map<String, ?> kept) {
    bound(kept.keySet());
  }

  /** At {@link #MAX_WAITING} entries all are forgotten: each costs a look-up at most. */
  private static void bound(java.util.Collection<?> kept) {
    if (kept.size() >= MAX_WAITING) {
      kept.clear();
    }
  }

  /**
   * Empties a development node's pool of the unit's account (only the unit's transaction where the
   * node cannot do more); false on nodes without such methods. Nothing is lost: every pooled
   * transaction of the account is a journaled unit of this consumer's (it holds the account's
   * lease), sent again with the same bytes.
   */
  private boolean dropFromPool(JournalEntry unit) throws InterruptedException {
    boolean refused;
    try {
      rpc.call("anvil_removePoolTransactions", unit.source());
      // The account's later units left the pool too: each is sent again on its next pass,
      // without waiting for its blocks.
      emptiedAt.put(unit.source(), clock.instant());
      return true;
    } catch (RpcException e) {
      refused = e.kind() == RpcException.Kind.NODE_ERROR;
      log.debug("node cannot empty an account's pool: {}", e.getMessage());
    }
    try {
      rpc.call("anvil_dropTransaction", unit.txid());
      return true;
    } catch (RpcException e) {
      if (refused && e.kind() == RpcException.Kind.NODE_ERROR) {
        // A node without these methods (any but a development node): not asked again, and a
        // unit first in line waits quietly for its blocks like any other.
        poolMethods = false;
      }
      log.debug("node cannot drop a pooled transaction: {}", e.getMessage());
      return false;
    }
  }

  /** Whether the node may serve anvil's pool methods; false once it refused both. */
  private boolean poolMethods = true;

  private JsonNode receipt(String txid) throws RpcException, InterruptedException {
    JsonNode receipt = rpc.call("eth_getTransactionReceipt", txid);
    return receipt == null || receipt.isNull() ? null : receipt;
  }

  private long minedNonces(String account) throws RpcException, InterruptedException {
    return FeeMarket.quantity(rpc.call("eth_getTransactionCount", account, "latest")).longValue();
  }

  /** How long a nonce count read for sorting units not sent from here serves the next ones. */
  static final Duration NONCES_KEPT = Duration.ofSeconds(1);

  /**
   * Each account's nonce count at the latest block, as read at most {@link #NONCES_KEPT} ago, for
   * sorting units this process did not send: an older count is lower (or a reorganisation's
   * higher), which only sends a mined unit again (the node refuses it, and it is settled in full)
   * or looks one up that is not mined. Bounded by {@link #MAX_WAITING} accounts.
   */
  private final Map<String, NonceCount> recentNonces = new HashMap<>();

  /** An account's nonce count at the latest block, and when it was read. */
  private record NonceCount(long used, Instant at) {}

  private long recentlyMinedNonces(String account) throws RpcException, InterruptedException {
    Instant now = clock.instant();
    NonceCount seen = recentNonces.get(account);
    if (seen != null && now.isBefore(seen.at().plus(NONCES_KEPT)) && !seen.at().isAfter(now)) {
      return seen.used();
    }
    long used = minedNonces(account);
    bound(recentNonces);
    recentNonces.put(account, new NonceCount(used, now));
    return used;
  }

  private NodeUnavailableException unavailable(JournalEntry unit, RpcException e) {
    return new NodeUnavailableException(
        "cannot broadcast " + unit.txid() + " on " + nodeName() + ": " + e.getMessage(), e);
  }
}
