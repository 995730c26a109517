package dev.convcg.model.config;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Deterministic hash of settings records: SHA-256 over their JSON (record components in
 * declaration order, nulls included), first 16 hex digits. The jobs module builds version ids from
 * the run date plus this hash; checkpoints use it to refuse resuming a different model.
 */
public final class ConfigHash {
    private static final Gson GSON =
            new GsonBuilder().serializeNulls().disableHtmlEscaping().create();

    private ConfigHash() {}

    public static String of(Object... parts) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            for (Object part : parts) {
                sha.update(part.getClass().getName().getBytes(StandardCharsets.UTF_8));
                sha.update((byte) 0);
                sha.update(GSON.toJson(part).getBytes(StandardCharsets.UTF_8));
                sha.update((byte) 0);
            }
            return HexFormat.of().formatHex(sha.digest()).substring(0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 unavailable", e);
        }
    }
}
