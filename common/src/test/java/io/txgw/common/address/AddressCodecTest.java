package io.txgw.common.address;

import static org.assertj.core.api.Assertions.assertThat;

import io.txgw.common.model.Chain;
import java.util.Random;
import org.junit.jupiter.api.Test;

class AddressCodecTest {
  private final AddressCodec main = new AddressCodec(BitcoinNetwork.MAIN);
  private final AddressCodec bcoin = new AddressCodec(BitcoinNetwork.BCOIN_REGTEST);

  @Test
  void acceptsEip55ChecksummedAddresses() {
    for (String address :
        new String[] {
          "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
          "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
          "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
          "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb"
        }) {
      AddressCodec.Decoded decoded = main.decode(Chain.ETH, address);
      assertThat(decoded.valid()).as(address).isTrue();
      assertThat(decoded.address().value()).isEqualTo(address);
    }
  }

  @Test
  void refusesAMixedCaseEthereumAddressWithAWrongChecksum() {
    AddressCodec.Decoded decoded =
        main.decode(Chain.ETH, "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD");
    assertThat(decoded.valid()).isFalse();
    assertThat(decoded.reason()).contains("EIP-55");
  }

  @Test
  void normalisesSingleCaseEthereumAddressesToTheirChecksumForm() {
    AddressCodec.Decoded decoded =
        main.decode(Chain.ETH, "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed");
    assertThat(decoded.address().value()).isEqualTo("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed");
  }

  @Test
  void refusesEthereumTextOfTheWrongShape() {
    for (String bad :
        new String[] {
          "5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
          "0x1234",
          "0xZZAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
          ""
        }) {
      assertThat(main.decode(Chain.ETH, bad).valid()).as(bad).isFalse();
    }
  }

  @Test
  void acceptsMainnetBase58AndSegwitAddresses() {
    assertThat(main.decode(Chain.BTC, "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa").valid()).isTrue();
    assertThat(main.decode(Chain.BTC, "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq").valid())
        .isTrue();
    assertThat(
            main.decode(Chain.BTC, "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0")
                .valid())
        .isTrue();
  }

  @Test
  void refusesABase58AddressWithABrokenChecksum() {
    AddressCodec.Decoded decoded = main.decode(Chain.BTC, "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb");
    assertThat(decoded.valid()).isFalse();
  }

  @Test
  void refusesABech32AddressWithOneCharacterChanged() {
    AddressCodec.Decoded decoded =
        main.decode(Chain.BTC, "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdp");
    assertThat(decoded.valid()).isFalse();
    assertThat(decoded.reason()).contains("checksum");
  }

  @Test
  void refusesAddressesOfAnotherNetwork() {
    assertThat(bcoin.decode(Chain.BTC, "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa").valid()).isFalse();
    AddressCodec.Decoded segwit =
        bcoin.decode(Chain.BTC, "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq");
    assertThat(segwit.valid()).isFalse();
  }

  @Test
  void acceptsBcoinRegtestAddresses() {
    // Handed out by a bcoin regtest wallet.
    assertThat(bcoin.decode(Chain.BTC, "RJnhxQm2k38icpc19eiej3n2LtYGj5DWAc").valid()).isTrue();
    byte[] id = new byte[20];
    new Random(7).nextBytes(id);
    assertThat(bcoin.bitcoinP2wpkh(id).value()).startsWith("rb1q");
    assertThat(bcoin.decode(Chain.BTC, bcoin.bitcoinP2wpkh(id).value()).valid()).isTrue();
    assertThat(bcoin.decode(Chain.BTC, bcoin.bitcoinP2pkh(id).value()).valid()).isTrue();
  }

  @Test
  void refusesMixedCaseBech32() {
    assertThat(main.decode(Chain.BTC, "bc1qAr0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq").valid())
        .isFalse();
  }
}
