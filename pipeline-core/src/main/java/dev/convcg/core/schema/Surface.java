package dev.convcg.core.schema;

/** Where an impression was served. Each surface has its own behaviour and is a feature of every example. */
public enum Surface {
    HOME_FEED,
    RELATED_PINS,
    SEARCH
}
