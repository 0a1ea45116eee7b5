package io.txgw.gateway.status;

import java.util.Map;
import org.apache.kafka.streams.state.RocksDBConfigSetter;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.Cache;
import org.rocksdb.LRUCache;
import org.rocksdb.Options;
import org.rocksdb.WriteBufferManager;

/**
 * Caps the memory of every RocksDB store of the view together: by default each store of each
 * partition takes its own block cache and memtables (tens of MB apiece), which with four stores
 * over a dozen partitions would dwarf the gateway's heap. One cache, which the memtables are
 * charged to as well, bounds them all.
 */
public final class BoundedRocksDb implements RocksDBConfigSetter {
  static final long TOTAL_BYTES = 48L * 1024 * 1024;
  static final long MEMTABLE_BYTES = 16L * 1024 * 1024;

  // Shared by every store in the process, as the bound is for the process.
  private static final Cache CACHE = new LRUCache(TOTAL_BYTES, -1, false, 0.1);
  private static final WriteBufferManager WRITE_BUFFERS =
      new WriteBufferManager(MEMTABLE_BYTES, CACHE);

  @Override
  public void setConfig(String storeName, Options options, Map<String, Object> configs) {
    BlockBasedTableConfig table = (BlockBasedTableConfig) options.tableFormatConfig();
    table.setBlockCache(CACHE);
    table.setCacheIndexAndFilterBlocks(true);
    table.setPinTopLevelIndexAndFilter(true);
    options.setWriteBufferManager(WRITE_BUFFERS);
    options.setMaxWriteBufferNumber(2);
    options.setWriteBufferSize(4L * 1024 * 1024);
    options.setTableFormatConfig(table);
  }

  @Override
  public void close(String storeName, Options options) {
    // The cache and buffer manager are shared; they live as long as the process.
  }
}
