package io.txgw.consumer.chain;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigInteger;
import java.util.List;
import org.junit.jupiter.api.Test;

class MultiSendTest {
  private static final String TOKEN = "0x5fbdb2315678afecb367f032d93f642f64180aa3";
  private static final List<String> TO =
      List.of(
          "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed",
          "0xfb6916095ca1df60bb79ce92ce3ea74c37c5d359");
  private static final List<BigInteger> AMOUNTS =
      List.of(BigInteger.ONE, new BigInteger("123456789012345678901234567890"));

  @Test
  void aTokenCallReadsBackAsTheSamePaymentsWithTheSelectorOfTheContract() {
    String data = MultiSend.tokenCall(TOKEN, TO, AMOUNTS);
    // keccak("sendToken(address,address[],uint256[])")[0:4], as solc's ABI names it.
    assertThat(data).startsWith(MultiSend.SEND_TOKEN);
    MultiSend.Payments back = MultiSend.decode(data);
    assertThat(back).isEqualTo(new MultiSend.Payments(TOKEN, TO, AMOUNTS));
    assertThat(back.total()).isEqualTo(AMOUNTS.get(0).add(AMOUNTS.get(1)));
  }

  @Test
  void anEtherCallReadsBackWithoutAToken() {
    String data = MultiSend.etherCall(TO, AMOUNTS);
    assertThat(data).startsWith(MultiSend.SEND_ETHER);
    assertThat(MultiSend.decode(data)).isEqualTo(new MultiSend.Payments(null, TO, AMOUNTS));
  }

  @Test
  void otherCallsAndTruncatedCallsAreNoMultiSend() {
    assertThat(MultiSend.decode("0x")).isNull();
    assertThat(MultiSend.decode(TokenTransfers.transferData(TO.get(0), BigInteger.TEN))).isNull();
    String data = MultiSend.tokenCall(TOKEN, TO, AMOUNTS);
    assertThat(MultiSend.decode(data.substring(0, data.length() - 64))).isNull();
  }
}
