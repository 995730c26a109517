package dev.convcg.model.blocks;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;

/**
 * Scalar operands for arithmetic on the autograd path. DJL's {@code NDArray} overloads that take
 * a {@code Number} ({@code mul(2f)}, {@code div(x)}, {@code maximum(eps)}, …) wrap the number in a
 * tensor over a Java direct buffer and close that tensor as soon as the op returns. When the op's
 * backward needs the operand (mul, div, maximum, pow), libtorch's autograd still holds it; the
 * buffer is then freed whenever the JVM's garbage collector runs, and the backward pass reads freed
 * memory: gradients that depend on GC timing, occasionally NaN. A tensor made by {@link #of} is
 * allocated by libtorch, so autograd's reference keeps it alive.
 *
 * <p>Every forward and loss computation in this module takes its scalar operands from here.
 */
public final class Scalars {
    private Scalars() {}

    /** A 0-d float tensor holding {@code value}, on {@code like}'s manager and device. */
    public static NDArray of(NDArray like, double value) {
        return like.getManager().full(new Shape(), (float) value, like.getDataType(), like.getDevice());
    }
}
