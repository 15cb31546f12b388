package dev.jacobian.samples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jacobian.samples.checkpoint.CheckpointFormatException;
import java.io.IOException;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.net.URI;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.AccessMode;
import java.nio.file.CopyOption;
import java.nio.file.DirectoryStream;
import java.nio.file.FileStore;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.nio.file.WatchService;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.FileAttributeView;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.nio.file.spi.FileSystemProvider;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code train --resume} without {@code --out} looks for the newest run in {@code runs/}: a directory there that
 * cannot be listed was an UncheckedIOException (exit 1 and the exception's name), and {@code runs/} itself a bare
 * AccessDeniedException; both are now a one-line {@link CheckpointFormatException} (exit 2) naming the directory.
 * The tests run as root, where chmod denies nothing, so the listing fails in a file system made for it.
 */
class ResumeListingTest {
    @TempDir
    Path tmp;

    private Path runs() throws IOException {
        Path runs = Files.createDirectory(tmp.resolve("runs"));
        Files.write(Files.createDirectory(runs.resolve("20260101-000000")).resolve("checkpoint-epoch-0001.json"),
                new byte[0]);
        Files.write(Files.createDirectory(runs.resolve("20260102-000000")).resolve("checkpoint-epoch-0002.json"),
                new byte[0]);
        Files.createDirectory(runs.resolve("20260103-000000")); // no checkpoint
        return runs;
    }

    @Test
    void theNewestRunWithACheckpointIsFound() throws IOException {
        Path runs = runs();
        DenyingFileSystem fs = new DenyingFileSystem();
        assertEquals(runs.resolve("20260102-000000").toString(),
                TrainCommand.newestRun(fs.wrap(runs)).orElseThrow().toString());
    }

    @Test
    void aRunDirectoryThatCannotBeListedIsAOneLineCheckpointError() throws IOException {
        Path runs = runs();
        Path denied = runs.resolve("20260101-000000");
        DenyingFileSystem fs = new DenyingFileSystem(denied);
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class,
                () -> TrainCommand.newestRun(fs.wrap(runs)));
        assertOneLineNaming(e, denied);
    }

    @Test
    void runsThatCannotBeListedIsAOneLineCheckpointError() throws IOException {
        Path runs = runs();
        DenyingFileSystem fs = new DenyingFileSystem(runs);
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class,
                () -> TrainCommand.newestRun(fs.wrap(runs)));
        assertOneLineNaming(e, runs);
    }

    private static void assertOneLineNaming(CheckpointFormatException e, Path dir) {
        String m = e.getMessage();
        assertFalse(m.contains("\n"), m);
        assertTrue(m.startsWith(dir.toString()) && m.contains("--resume") && m.contains("cannot list"), m);
    }

    /** The default file system, but listing one of the {@code denied} directories fails as for an unreadable one. */
    private static final class DenyingFileSystem extends FileSystem {
        private final FileSystem real = FileSystems.getDefault();
        private final FileSystemProvider realProvider = real.provider();
        private final Set<Path> denied;
        private final FileSystemProvider provider = new Provider();

        DenyingFileSystem(Path... denied) {
            this.denied = Set.of(denied);
        }

        Path wrap(Path p) {
            InvocationHandler h = new PathHandler(p);
            return (Path) Proxy.newProxyInstance(Path.class.getClassLoader(), new Class<?>[] {Path.class}, h);
        }

        static Path unwrap(Path p) {
            return Proxy.isProxyClass(p.getClass()) && Proxy.getInvocationHandler(p) instanceof PathHandler h
                    ? h.real : p;
        }

        private final class PathHandler implements InvocationHandler {
            private final Path real;

            PathHandler(Path real) {
                this.real = real;
            }

            @Override
            public Object invoke(Object proxy, java.lang.reflect.Method m, Object[] args) throws Throwable {
                if (m.getName().equals("getFileSystem")) {
                    return DenyingFileSystem.this;
                }
                Object[] a = args == null ? null : args.clone();
                for (int i = 0; a != null && i < a.length; i++) {
                    if (a[i] instanceof Path p) {
                        a[i] = unwrap(p);
                    }
                }
                Object r;
                try {
                    r = m.invoke(real, a);
                } catch (InvocationTargetException e) {
                    throw e.getCause();
                }
                return r instanceof Path p ? wrap(p) : r;
            }
        }

        private final class Provider extends FileSystemProvider {
            @Override
            public String getScheme() {
                return "denying";
            }

            @Override
            public FileSystem newFileSystem(URI uri, Map<String, ?> env) {
                throw new UnsupportedOperationException();
            }

            @Override
            public FileSystem getFileSystem(URI uri) {
                return DenyingFileSystem.this;
            }

            @Override
            public Path getPath(URI uri) {
                return wrap(realProvider.getPath(uri));
            }

            @Override
            public SeekableByteChannel newByteChannel(Path path, Set<? extends OpenOption> options,
                                                      FileAttribute<?>... attrs) throws IOException {
                return realProvider.newByteChannel(unwrap(path), options, attrs);
            }

            @Override
            public DirectoryStream<Path> newDirectoryStream(Path dir, DirectoryStream.Filter<? super Path> filter)
                    throws IOException {
                if (denied.contains(unwrap(dir))) {
                    throw new AccessDeniedException(dir.toString());
                }
                DirectoryStream<Path> s = realProvider.newDirectoryStream(unwrap(dir), p -> filter.accept(wrap(p)));
                return new DirectoryStream<>() {
                    @Override
                    public Iterator<Path> iterator() {
                        Iterator<Path> it = s.iterator();
                        return new Iterator<>() {
                            @Override
                            public boolean hasNext() {
                                return it.hasNext();
                            }

                            @Override
                            public Path next() {
                                return wrap(it.next());
                            }
                        };
                    }

                    @Override
                    public void close() throws IOException {
                        s.close();
                    }
                };
            }

            @Override
            public void createDirectory(Path dir, FileAttribute<?>... attrs) throws IOException {
                realProvider.createDirectory(unwrap(dir), attrs);
            }

            @Override
            public void delete(Path path) throws IOException {
                realProvider.delete(unwrap(path));
            }

            @Override
            public void copy(Path source, Path target, CopyOption... options) throws IOException {
                realProvider.copy(unwrap(source), unwrap(target), options);
            }

            @Override
            public void move(Path source, Path target, CopyOption... options) throws IOException {
                realProvider.move(unwrap(source), unwrap(target), options);
            }

            @Override
            public boolean isSameFile(Path path, Path path2) throws IOException {
                return realProvider.isSameFile(unwrap(path), unwrap(path2));
            }

            @Override
            public boolean isHidden(Path path) throws IOException {
                return realProvider.isHidden(unwrap(path));
            }

            @Override
            public FileStore getFileStore(Path path) throws IOException {
                return realProvider.getFileStore(unwrap(path));
            }

            @Override
            public void checkAccess(Path path, AccessMode... modes) throws IOException {
                realProvider.checkAccess(unwrap(path), modes);
            }

            @Override
            public <V extends FileAttributeView> V getFileAttributeView(Path path, Class<V> type,
                                                                        LinkOption... options) {
                return realProvider.getFileAttributeView(unwrap(path), type, options);
            }

            @Override
            public <A extends BasicFileAttributes> A readAttributes(Path path, Class<A> type, LinkOption... options)
                    throws IOException {
                return realProvider.readAttributes(unwrap(path), type, options);
            }

            @Override
            public Map<String, Object> readAttributes(Path path, String attributes, LinkOption... options)
                    throws IOException {
                return realProvider.readAttributes(unwrap(path), attributes, options);
            }

            @Override
            public void setAttribute(Path path, String attribute, Object value, LinkOption... options)
                    throws IOException {
                realProvider.setAttribute(unwrap(path), attribute, value, options);
            }
        }

        @Override
        public FileSystemProvider provider() {
            return provider;
        }

        @Override
        public void close() {
            throw new UnsupportedOperationException();
        }

        @Override
        public boolean isOpen() {
            return true;
        }

        @Override
        public boolean isReadOnly() {
            return false;
        }

        @Override
        public String getSeparator() {
            return real.getSeparator();
        }

        @Override
        public Iterable<Path> getRootDirectories() {
            throw new UnsupportedOperationException();
        }

        @Override
        public Iterable<FileStore> getFileStores() {
            return real.getFileStores();
        }

        @Override
        public Set<String> supportedFileAttributeViews() {
            return real.supportedFileAttributeViews();
        }

        @Override
        public Path getPath(String first, String... more) {
            return wrap(real.getPath(first, more));
        }

        @Override
        public PathMatcher getPathMatcher(String syntaxAndPattern) {
            return real.getPathMatcher(syntaxAndPattern);
        }

        @Override
        public UserPrincipalLookupService getUserPrincipalLookupService() {
            return real.getUserPrincipalLookupService();
        }

        @Override
        public WatchService newWatchService() throws IOException {
            return real.newWatchService();
        }
    }
}
