package io.txgw.consumer.chain;

import io.txgw.common.address.Keccak;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import org.web3j.abi.FunctionEncoder;
import org.web3j.abi.FunctionReturnDecoder;
import org.web3j.abi.TypeReference;
import org.web3j.abi.datatypes.Address;
import org.web3j.abi.datatypes.DynamicArray;
import org.web3j.abi.datatypes.Function;
import org.web3j.abi.datatypes.Type;
import org.web3j.abi.datatypes.generated.Uint256;

/**
 * Calls of the multi-send contract ({@code deploy/contracts/TxgwMultiSend.sol}): many payouts of
 * one account, of one token or of ether, in one transaction that pays all or none. Encoded and read
 * back with web3j's ABI codec.
 */
final class MultiSend {
  static final String SEND_TOKEN = selector("sendToken(address,address[],uint256[])");
  static final String SEND_ETHER = selector("sendEther(address[],uint256[])");

  /** {@code Paid(address,uint256)}: the event each ether payment of a call emits. */
  static final String PAID_TOPIC =
      "0x"
          + HexFormat.of()
              .formatHex(Keccak.hash256("Paid(address,uint256)".getBytes(StandardCharsets.UTF_8)));

  /** What a call pays: {@code token} null for ether. */
  record Payments(String token, List<String> to, List<BigInteger> amounts) {
    BigInteger total() {
      return amounts.stream().reduce(BigInteger.ZERO, BigInteger::add);
    }
  }

  private MultiSend() {}

  static String tokenCall(String token, List<String> to, List<BigInteger> amounts) {
    return FunctionEncoder.encode(
        new Function(
            "sendToken", List.of(new Address(token), addresses(to), uints(amounts)), List.of()));
  }

  /** A call paying ether; the contract refuses every recipient holding code. */
  static String etherCall(List<String> to, List<BigInteger> amounts) {
    return FunctionEncoder.encode(
        new Function("sendEther", List.of(addresses(to), uints(amounts)), List.of()));
  }

  /** The payments a call of the contract makes; null when {@code data} is no such call. */
  @SuppressWarnings({"rawtypes", "unchecked"})
  static Payments decode(String data) {
    String lower = data.toLowerCase(Locale.ROOT);
    boolean token = lower.startsWith(SEND_TOKEN);
    if (!token && !lower.startsWith(SEND_ETHER)) {
      return null;
    }
    List<TypeReference<?>> types = new ArrayList<>();
    if (token) {
      types.add(new TypeReference<Address>() {});
    }
    types.add(new TypeReference<DynamicArray<Address>>() {});
    types.add(new TypeReference<DynamicArray<Uint256>>() {});
    List<Type> values;
    try {
      values = FunctionReturnDecoder.decode("0x" + lower.substring(10), (List) types);
    } catch (RuntimeException e) {
      return null;
    }
    if (values.size() != types.size()) {
      return null;
    }
    int at = token ? 1 : 0;
    List<String> to = new ArrayList<>();
    for (Object a : ((DynamicArray<?>) values.get(at)).getValue()) {
      to.add(((Address) a).getValue().toLowerCase(Locale.ROOT));
    }
    List<BigInteger> amounts = new ArrayList<>();
    for (Object u : ((DynamicArray<?>) values.get(at + 1)).getValue()) {
      amounts.add(((Uint256) u).getValue());
    }
    if (to.size() != amounts.size()) {
      return null;
    }
    String tokenAddress =
        token ? ((Address) values.get(0)).getValue().toLowerCase(Locale.ROOT) : null;
    return new Payments(tokenAddress, to, amounts);
  }

  private static DynamicArray<Address> addresses(List<String> to) {
    return new DynamicArray<>(Address.class, to.stream().map(Address::new).toList());
  }

  private static DynamicArray<Uint256> uints(List<BigInteger> amounts) {
    return new DynamicArray<>(Uint256.class, amounts.stream().map(Uint256::new).toList());
  }

  private static String selector(String signature) {
    byte[] hash = Keccak.hash256(signature.getBytes(StandardCharsets.UTF_8));
    return "0x" + HexFormat.of().formatHex(hash, 0, 4);
  }
}
