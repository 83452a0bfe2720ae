// DynamoDB Local listening on 127.0.0.1 only. The engine has no bind-address flag: its embedded Jetty server
// listens on every interface, with no credentials, so anyone on the network could rewrite the tables. This
// launcher builds the server with the engine's own command-line parser (same flags as its main class), sets the
// Jetty connector's host to the loopback address, then starts it. backend/runtime/dynamodb_local.py compiles it
// once into .tools/dynamodb-local/launcher (javac, from the JDK that `make install` brings).
import com.amazonaws.services.dynamodbv2.local.main.ServerRunner;
import com.amazonaws.services.dynamodbv2.local.server.DynamoDBProxyServer;
import java.lang.reflect.Field;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

public final class LoopbackDynamoDB {
    public static void main(String[] args) throws Exception {
        DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(args);
        Field field = DynamoDBProxyServer.class.getDeclaredField("server");
        field.setAccessible(true);
        Server server = (Server) field.get(proxy);
        for (Connector connector : server.getConnectors()) {
            ((ServerConnector) connector).setHost("127.0.0.1");
        }
        proxy.start();
        proxy.join();
    }
}
