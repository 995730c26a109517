package dev.convcg.jobs.io;

import dev.convcg.core.ingest.EventImporter;
import dev.convcg.jobs.config.InvalidConfigException;
import dev.convcg.jobs.config.PipelineConfig.ImportSource;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;
import org.apache.spark.sql.DataFrameReader;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * The event file (or folder of files) an import reads: its column names and its content hash, known before any row
 * is mapped, and its rows. The hash (SHA-256 of the bytes as stored, of every file in path order, names included for
 * a folder) identifies the input in the quarantine; computing it reads the input once on the driver. A CSV is read
 * as strings in PERMISSIVE mode, so a line with too many or too few fields is kept with the line in
 * {@link EventImporter#CORRUPT_RECORD} instead of failing the read.
 */
public final class EventFile {
    private final SparkSession spark;
    private final ImportSource source;
    private final List<String> columns;
    private final String hash;

    private EventFile(SparkSession spark, ImportSource source, List<String> columns, String hash) {
        this.spark = spark;
        this.source = source;
        this.columns = columns;
        this.hash = hash;
    }

    /** Opens {@code import-events.input}; fails with the key and the reason when it is missing or holds nothing. */
    public static EventFile open(SparkSession spark, ImportSource source) {
        String input = source.input();
        if (input.isBlank()) {
            throw new InvalidConfigException("convcg.import-events.input is empty: set it to the file to import");
        }
        List<FileStatus> files = files(spark, input);
        String hash = hash(spark, new Path(input), files);
        List<String> columns;
        if (source.format().equals("parquet")) {
            columns = List.of(spark.read().parquet(input).columns());
        } else if (source.csvHeader()) {
            columns = List.of(spark.read()
                    .option("header", "true")
                    .option("inferSchema", "false")
                    .option("sep", source.csvDelimiter())
                    .csv(input)
                    .columns());
        } else {
            columns = source.columns();
            if (columns.isEmpty()) {
                throw new InvalidConfigException("convcg.import-events.columns is empty: a CSV without a header "
                        + "(import-events.csv-header = false) needs its column names, in file order");
            }
        }
        if (columns.isEmpty()) {
            throw new InvalidConfigException("convcg.import-events.input = " + input + " is empty");
        }
        return new EventFile(spark, source, List.copyOf(columns), hash);
    }

    public String path() {
        return source.input();
    }

    /** The source's column names: the header, {@code import-events.columns}, or the Parquet schema's. */
    public List<String> columns() {
        return columns;
    }

    /** Hex SHA-256 of the input's content. */
    public String hash() {
        return hash;
    }

    /** Where the column names come from, for messages. */
    public String columnsOrigin() {
        return source.format().equals("parquet")
                ? "its Parquet schema"
                : source.csvHeader() ? "its header" : "convcg.import-events.columns";
    }

    /** The rows: typed as stored for Parquet, strings plus {@link EventImporter#CORRUPT_RECORD} for a CSV. */
    public Dataset<Row> read() {
        if (source.format().equals("parquet")) {
            return spark.read().parquet(source.input());
        }
        StructType schema = new StructType();
        for (String c : columns) {
            schema = schema.add(c, DataTypes.StringType, true);
        }
        schema = schema.add(EventImporter.CORRUPT_RECORD, DataTypes.StringType, true);
        DataFrameReader reader = spark.read()
                .schema(schema)
                .option("header", String.valueOf(source.csvHeader()))
                .option("sep", source.csvDelimiter())
                .option("mode", "PERMISSIVE")
                .option("columnNameOfCorruptRecord", EventImporter.CORRUPT_RECORD);
        return reader.csv(source.input());
    }

    /** The data files of the input in path order, skipping names Spark skips (starting with _ or .). */
    private static List<FileStatus> files(SparkSession spark, String input) {
        Path path = new Path(input);
        try {
            FileSystem fs = path.getFileSystem(spark.sparkContext().hadoopConfiguration());
            if (!fs.exists(path)) {
                throw new InvalidConfigException(
                        "convcg.import-events.input = " + input + ": no such file or directory");
            }
            List<FileStatus> files = new ArrayList<>();
            if (fs.getFileStatus(path).isFile()) {
                files.add(fs.getFileStatus(path));
            } else {
                RemoteIterator<LocatedFileStatus> it = fs.listFiles(path, true);
                while (it.hasNext()) {
                    LocatedFileStatus f = it.next();
                    String relative = f.getPath()
                            .toUri()
                            .getPath()
                            .substring(fs.getFileStatus(path)
                                    .getPath()
                                    .toUri()
                                    .getPath()
                                    .length());
                    if (Arrays.stream(relative.split("/")).noneMatch(n -> n.startsWith("_") || n.startsWith("."))) {
                        files.add(f);
                    }
                }
                files.sort(Comparator.comparing(f -> f.getPath().toString()));
            }
            if (files.stream().allMatch(f -> f.getLen() == 0)) {
                throw new InvalidConfigException("convcg.import-events.input = " + input + " is empty");
            }
            return files;
        } catch (IOException e) {
            throw new InvalidConfigException(
                    "convcg.import-events.input = " + input + ": cannot be listed (" + e.getMessage() + ")", e);
        }
    }

    private static String hash(SparkSession spark, Path root, List<FileStatus> files) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            FileSystem fs = root.getFileSystem(spark.sparkContext().hadoopConfiguration());
            String rootPath = fs.getFileStatus(root).getPath().toUri().getPath();
            byte[] buffer = new byte[1 << 16];
            for (FileStatus f : files) {
                if (files.size() > 1 || !f.getPath().toUri().getPath().equals(rootPath)) {
                    sha.update(f.getPath()
                            .toUri()
                            .getPath()
                            .substring(rootPath.length())
                            .getBytes(StandardCharsets.UTF_8));
                    sha.update((byte) 0);
                }
                try (InputStream in = fs.open(f.getPath())) {
                    for (int n; (n = in.read(buffer)) > 0; ) {
                        sha.update(buffer, 0, n);
                    }
                }
            }
            return HexFormat.of().formatHex(sha.digest());
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + root + " to hash it: " + e.getMessage(), e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
