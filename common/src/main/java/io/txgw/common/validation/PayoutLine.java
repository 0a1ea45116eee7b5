package io.txgw.common.validation;

/** One payout as a client sent it, before validation: every field is raw text. */
public record PayoutLine(String id, String to, String amount, String memo) {}
