// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title A plain ERC-20 for the local stack, its tests and its demo: OpenZeppelin's, with six
/// decimals like the dollar tokens exchanges pay most, its whole supply minted to the deployer.
contract TxgwTestToken is ERC20 {
    constructor(uint256 supply) ERC20("txgw test dollar", "TUSD") {
        _mint(msg.sender, supply);
    }

    function decimals() public pure override returns (uint8) {
        return 6;
    }
}
