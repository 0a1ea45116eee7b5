// The hardhat development node the tests and the demo run as a second Ethereum node, beside
// anvil: chain 31337, each transaction mined as it arrives and a block every second besides (so
// that payouts reach their confirmation depth when nothing else is sent), EIP-1559 fees.
module.exports = {
  networks: { hardhat: { chainId: 31337, mining: { auto: true, interval: 1000 } } },
};
