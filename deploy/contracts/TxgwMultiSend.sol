// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

/// @title Pays many recipients of one token, or of ether, in one transaction: all or nothing.
/// @notice Holds nothing between calls and has no owner, no upgrade and no state: it moves what
/// the caller sends (ether) or what the caller allowed it to take (tokens, by transferFrom from
/// the caller only), and reverts the whole call when any one payment fails. txgw journals a call
/// as one unit, so a call is either mined with every payment or with none.
contract TxgwMultiSend {
    using SafeERC20 for IERC20;

    /// The recipient and amount lists differ in length.
    error LengthMismatch(uint256 recipients, uint256 amounts);
    /// The ether sent is not exactly the sum of the amounts: nothing may be left behind.
    error WrongValue(uint256 sent, uint256 total);
    /// A recipient refused ether (a contract without a payable receive, or one that reverted).
    error EtherRefused(address recipient);
    /// A recipient holds code: paid alone, never inside a call of many.
    error CodeRecipient(address recipient);
    /// One ether payment made: what txgw reads back from the receipt.
    event Paid(address indexed recipient, uint256 amount);

    /// Pays `amounts[i]` of `token` from the caller to `recipients[i]`, for every i, or reverts.
    /// The caller must have approved this contract for at least the sum.
    function sendToken(IERC20 token, address[] calldata recipients, uint256[] calldata amounts)
        external
    {
        if (recipients.length != amounts.length) {
            revert LengthMismatch(recipients.length, amounts.length);
        }
        for (uint256 i = 0; i < recipients.length; ++i) {
            token.safeTransferFrom(msg.sender, recipients[i], amounts[i]);
        }
    }

    /// Pays `amounts[i]` wei to `recipients[i]`, for every i, or reverts; each payment is told by
    /// a `Paid` event. The value sent must be exactly their sum. A recipient holding code, a
    /// contract or an account delegating to one (EIP-7702), is refused: its code would run with
    /// the call's gas, and could make the whole call revert or burn its gas. txgw pays those alone.
    function sendEther(address payable[] calldata recipients, uint256[] calldata amounts)
        external
        payable
    {
        if (recipients.length != amounts.length) {
            revert LengthMismatch(recipients.length, amounts.length);
        }
        uint256 total = 0;
        for (uint256 i = 0; i < recipients.length; ++i) {
            address payable to = recipients[i];
            if (to.code.length != 0) {
                revert CodeRecipient(to);
            }
            total += amounts[i];
            // No code runs at an account without code: the call cannot re-enter or fail for gas.
            (bool paid,) = to.call{value: amounts[i]}("");
            if (!paid) {
                revert EtherRefused(to);
            }
            emit Paid(to, amounts[i]);
        }
        if (total != msg.value) {
            revert WrongValue(msg.value, total);
        }
    }
}
