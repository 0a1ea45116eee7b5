package io.txgw.common.validation;

import java.util.List;

/** A batch as a client sent it, before validation. */
public record BatchSubmission(
    String batchId, String chain, String source, List<PayoutLine> payouts) {}
